"""Digests: the daily reviewer digest (open review work plus anything a user asked to receive as a digest),
the weekly scenario pack (Mondays) and the monthly management brief (the 1st, top cases by value score).

The reviewer digest goes to every role that decides a level of any review chain (besides the roles policy
``notifications.reviewer_digest_roles`` adds), so a chain a policy switches to never leaves its reviewers
without one. The scenario pack goes to the roles of ``notifications.scenario_pack_roles``, each case under its
current (published) scenario, narrowed to the scenarios each reader chose in their preferences."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.users import Actor, User
from lifecycle import states as S
from lifecycle.jobs import CASES, rating_stats, value_score
from lifecycle.models import CaseVersion
from notifications.audience import case_ref, may_read
from notifications.delivery import dead_letter, recipients
from notifications.models import DIGESTED, PENDING, OutboxMessage, Preference, picked
from notifications.outbox import Notice, enqueue, enqueue_many
from notifications.render import render_subject
from policies.loader import Policy
from review.queue import list_queue

OUTBOX = OutboxMessage.__table__
USERS = User.__table__
PREFS = Preference.__table__


def digest_roles(policy: Policy) -> set[str]:
    """Roles that get the daily digest: the policy's list and every role holding review tasks under any chain."""
    return set(policy.doc.notifications.reviewer_digest_roles) | {
        level.role for levels in policy.doc.review.chains.values() for level in levels}


def daily_digests(ctx: AppContext) -> int:
    """One digest per user and day: their open review work plus the notifications they asked to have
    folded in; written a batch of users per transaction (idempotent by key, so a rerun adds nothing)."""
    now = ctx.clock.now()
    day = now.astimezone(ctx.clock.tz).date().isoformat()
    np_ = ctx.policy.doc.notifications
    reviewers = digest_roles(ctx.policy)
    with ctx.engine.connect() as conn:
        users = conn.execute(select(USERS).where(USERS.c.active.is_(True)).order_by(USERS.c.id)).all()
        waiting = conn.execute(select(OUTBOX).where(OUTBOX.c.status == PENDING, OUTBOX.c.digest.is_(True))
                               .order_by(OUTBOX.c.id)).all()
        people = recipients(conn, {r.recipient for r in waiting})
    queued: dict[str, list[Any]] = {}
    for row in waiting:
        queued.setdefault(row.recipient, []).append(row)
    planned: list[tuple[str, list[dict[str, Any]], list[int]]] = []
    poison: list[tuple[Any, str]] = []
    for user in users:
        lines: list[dict[str, Any]] = []
        if user.role in reviewers:
            actor = Actor.of(user)
            for item in list_queue(ctx, actor, limit=50):
                lines.append({"line": f"[{item.sla}] {item.case_key} L{item.level} due "
                                      f"{item.due_at.astimezone(ctx.clock.tz):%Y-%m-%d %H:%M}"})
        rows = queued.get(user.username, [])
        person = people.get(user.username)
        folded = []
        if person is not None:
            for r in rows:
                try:
                    lines.append({"line": render_subject(ctx.policy, r.kind, r.payload, person)})
                    folded.append(r)
                except Exception as exc:  # noqa: BLE001 - a poison row is dead-lettered, the digest goes out
                    poison.append((r, f"cannot be rendered: {type(exc).__name__}: {exc}"))
        if lines:
            planned.append((user.username, lines, [r.id for r in folded]))
    if poison:
        with ctx.engine.begin() as conn:
            for row, error in poison:
                dead_letter(conn, ctx.policy, row, row.attempts + 1, error, now)
    sent = 0
    for i in range(0, len(planned), np_.batch_size):
        with ctx.engine.begin() as conn:
            for username, lines, folded in planned[i:i + np_.batch_size]:
                sent += enqueue(conn, kind="reviewer_digest", subject_id="daily", recipient=username, period=day,
                                payload={"day": day, "items": lines}, now=now, digestible=False)
                if folded:
                    conn.execute(update(OUTBOX).where(picked(folded, PENDING)).values(status=DIGESTED, sent_at=now))
    return sent


def scenario_groups(conn: Connection, rows: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The cases by their current scenario: the one of the version readers read (the published one)."""
    versions = CaseVersion.__table__
    wanted = [(r.id, r.published_version_no or r.current_version_no) for r in rows]
    documents = {(cid, no): doc for cid, no, doc in conn.execute(
        select(versions.c.case_id, versions.c.number, versions.c.document)
        .where(tuple_(versions.c.case_id, versions.c.number).in_(wanted))).all()}
    groups: dict[str, list[dict[str, Any]]] = {}
    for case, version in zip(rows, wanted):
        scenario = (documents.get(version) or {}).get("scenario") or "other"
        groups.setdefault(scenario, []).append(case_ref(case, conn))
    return groups


def pack_for(policy: Policy, reader: Actor, groups: dict[str, list[dict[str, Any]]],
             interests: list[str] | None) -> list[dict[str, Any]]:
    """Pure: one reader's pack — the scenarios of interest (all when none chosen), the cases they may read."""
    chosen = set(interests or [])
    pack = [{"name": name, "cases": [c for c in cases if may_read(policy, reader, c)]}
            for name, cases in sorted(groups.items()) if not chosen or name in chosen]
    return [g for g in pack if g["cases"]]


def weekly_scenario_pack(ctx: AppContext) -> int:
    """Mondays: cases published in the last 7 days, by current scenario, to the roles policy names (each reader
    within their scenarios of interest, redacted per reader)."""
    now = ctx.clock.now()
    local = now.astimezone(ctx.clock.tz)
    if local.weekday() != 0:
        return 0
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    roles = ctx.policy.doc.notifications.scenario_pack_roles
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(CASES).where(CASES.c.state == S.PUBLISHED,
                                                CASES.c.published_at > now - timedelta(days=7))
                            .order_by(CASES.c.published_at, CASES.c.id)).all()
        if not rows:
            return 0
        groups = scenario_groups(conn, rows)
        readers = conn.execute(select(USERS, PREFS.c.scenarios).outerjoin(PREFS, PREFS.c.username == USERS.c.username)
                               .where(USERS.c.active.is_(True), USERS.c.role.in_(roles))
                               .order_by(USERS.c.id)).all()
        notices = []
        for user in readers:
            pack = pack_for(ctx.policy, Actor.of(user), groups, user.scenarios)
            if pack:
                notices.append(Notice("scenario_pack", "weekly", user.username, week, {"week": week, "scenarios": pack},
                                      digestible=False))
        size = ctx.policy.doc.notifications.batch_size   # one multi-row INSERT per batch of readers
        return sum(len(enqueue_many(conn, notices[i:i + size], now)) for i in range(0, len(notices), size))


def monthly_brief(ctx: AppContext) -> int:
    """The 1st: the top cases by value score (policy ``notifications.value_score``) to management roles."""
    now = ctx.clock.now()
    local = now.astimezone(ctx.clock.tz)
    if local.day != 1:
        return 0
    month = f"{local:%Y-%m}"
    last = f"{local.year - 1}-12" if local.month == 1 else f"{local.year}-{local.month - 1:02d}"
    # last month's usage and effect reports (flow monthly_reports, earlier the same morning) and the NPS question
    reports = {"reports_month": last, "usage_report": f"/reports/usage-{last}",
               "effect_report": f"/reports/effect-{last}", "nps_page": "/nps"}
    np_ = ctx.policy.doc.notifications
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(CASES).where(CASES.c.state.in_([S.PUBLISHED, S.UPDATE_DUE]))).all()
        if not rows:
            return 0
        stats = rating_stats(conn)
        ranked = [case_ref(c, conn) | {"score": score} for score, _, c in
                  sorted(((value_score(ctx.policy, c, stats, now), c.id, c) for c in rows),
                         key=lambda t: (-t[0], t[1]))]
        sent = 0
        for user in conn.execute(select(USERS).where(USERS.c.role.in_(np_.brief_roles),
                                                      USERS.c.active.is_(True))).all():
            reader = Actor.of(user)
            top = [ref for ref in ranked if may_read(ctx.policy, reader, ref)][:np_.brief_top]
            if top:
                sent += enqueue(conn, kind="management_brief", subject_id="monthly", recipient=user.username,
                                period=month, payload={"month": month, "top": top, **reports}, now=now,
                                digestible=False)
    return sent


def digests(ctx: AppContext) -> dict[str, int]:
    return {"digests": daily_digests(ctx) + weekly_scenario_pack(ctx) + monthly_brief(ctx)}

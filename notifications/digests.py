"""Digests: the daily reviewer digest (open review work plus anything a user asked to receive as a digest),
the weekly scenario pack (Mondays) and the monthly management brief (the 1st, top cases by value score)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from casebook.core.context import AppContext
from casebook.core.users import Actor, User
from lifecycle import states as S
from lifecycle.jobs import CASES, rating_stats, value_score
from notifications.audience import case_ref, may_read
from notifications.delivery import dead_letter, recipients
from notifications.models import DIGESTED, PENDING, OutboxMessage, picked
from notifications.outbox import enqueue
from notifications.render import render_subject
from review.queue import list_queue

OUTBOX = OutboxMessage.__table__
USERS = User.__table__


def daily_digests(ctx: AppContext) -> int:
    """One digest per user and day: their open review work plus the notifications they asked to have
    folded in; written a batch of users per transaction (idempotent by key, so a rerun adds nothing)."""
    now = ctx.clock.now()
    day = now.astimezone(ctx.clock.tz).date().isoformat()
    np_ = ctx.policy.doc.notifications
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
        if user.role in np_.reviewer_digest_roles:
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


def weekly_scenario_pack(ctx: AppContext) -> int:
    """Mondays: cases published in the last 7 days, grouped by scenario, to every reader (redacted per reader)."""
    now = ctx.clock.now()
    local = now.astimezone(ctx.clock.tz)
    if local.weekday() != 0:
        return 0
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(CASES).where(CASES.c.state == S.PUBLISHED,
                                                CASES.c.published_at > now - timedelta(days=7))).all()
        if not rows:
            return 0
        from lifecycle.models import CaseVersion

        versions = CaseVersion.__table__
        scen = dict(conn.execute(select(versions.c.case_id, versions.c.document).where(
            versions.c.case_id.in_([r.id for r in rows]), versions.c.number == 1)).all())
        groups: dict[str, list[Any]] = {}
        for case in rows:
            groups.setdefault((scen.get(case.id) or {}).get("scenario") or "other", []).append(case_ref(case, conn))
        sent = 0
        for user in conn.execute(select(USERS).where(USERS.c.active.is_(True))).all():
            reader = Actor.of(user)
            visible = [{"name": name, "cases": [c for c in cases if may_read(ctx.policy, reader, c)]}
                       for name, cases in sorted(groups.items())]
            visible = [g for g in visible if g["cases"]]
            if visible:
                sent += enqueue(conn, kind="scenario_pack", subject_id="weekly", recipient=user.username, period=week,
                                payload={"week": week, "scenarios": visible}, now=now, digestible=False)
    return sent


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

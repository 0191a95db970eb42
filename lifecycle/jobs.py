"""Scheduled lifecycle work as "what is due at time T" (pure selection from stored state, policy and clock)
plus idempotent actions: transitions through the state machine and outbox rows, a batch per transaction.

Each job walks its due set through a partial index holding only its states, in keyset batches of (due time, id),
so a batch reads about a batch of index entries whatever the size of the library. A batch is applied
set-based: one UPDATE for its transitions, one INSERT for their audit events, one for their outbox rows.

Every function takes the application context (its clock says what T is) and returns counts of what it did;
the Prefect flows and ``casebook simulate`` call exactly these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, text, tuple_
from sqlalchemy.engine import Connection

from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.db import insert_if_absent, insert_many_if_absent, skip_locked
from casebook.core.errors import ConcurrentModification, IllegalTransition
from casebook.core.reasons import reason as coded_reason
from casebook.core.users import Actor, User, display_names
from lifecycle import states as S
from lifecycle.models import (APPROVED_ONLY, AWAITING_SUBMISSION, LIVE, PUBLISHED_ONLY, SCHEDULED_ONLY,
                              Case)
from lifecycle.service import CaseService
from lifecycle.worklist import Rating, WorkItem
from notifications.announce import announce
from notifications.audience import RoleHolders, case_ref, case_refs, username_of, users_with_role
from notifications.outbox import Notice, enqueue, enqueue_many
from policies.loader import Policy

CASES = Case.__table__
RATINGS = Rating.__table__
WORK = WorkItem.__table__
USERS = User.__table__
FLOW_ACTOR = Actor.system("flow")


@dataclass(frozen=True)
class DueSet:
    """What one job walks: the rows of its partial index (``where`` repeats the index's predicate verbatim, so
    SQLite and PostgreSQL can prove the index applies) whose due time, the index's first column, is due.
    ``states`` and ``bound`` say the same again for the re-check of claimed rows."""

    index: str
    predicate: str
    states: tuple[str, ...]
    due: Any
    bound: datetime | None = None

    @property
    def where(self) -> ColumnElement[bool]:
        return text(self.predicate) & (self.due <= self.bound) if self.bound is not None else text(self.predicate)

    @property
    def recheck(self) -> ColumnElement[bool]:
        """The due condition in a form no planner matches to the partial index (the state behind a COALESCE):
        claimed rows are fetched by primary key, and PostgreSQL re-evaluates this on rows changed meanwhile."""
        held = func.coalesce(CASES.c.state, "").in_(self.states)
        return held & (self.due <= self.bound) if self.bound is not None else held


def batch_statement(due: DueSet, after: tuple[datetime, int] | None, size: int) -> Any:
    """The next ``size`` (due time, id) of the due set after ``after``, in index order: a walk of the index alone
    (index-only on PostgreSQL once vacuumed), so a batch reads about a batch of index entries and never sorts."""
    stmt = select(due.due, CASES.c.id).where(due.where)
    if after is not None:
        stmt = stmt.where(tuple_(due.due, CASES.c.id) > tuple_(bindparam("after_due", after[0], type_=due.due.type),
                                                               bindparam("after_id", after[1])))
    return stmt.order_by(due.due, CASES.c.id).limit(size)


def claim_statement(conn: Connection, due: DueSet, ids: list[int]) -> Any:
    """The walked cases by primary key, still due, locked with SKIP LOCKED on PostgreSQL (SQLite's writer holds
    BEGIN IMMEDIATE): runs on several workers take disjoint rows and never wait for each other."""
    stmt = select(CASES).where(CASES.c.id.in_(ids), due.recheck)
    return skip_locked(conn, stmt)


def submission_due_by(horizon: datetime) -> DueSet:
    """Drafts whose submission deadline falls by ``horizon``."""
    return DueSet("ix_cases_submission_due", AWAITING_SUBMISSION, (S.DRAFT,), CASES.c.submission_due, horizon)


def past_validity(now: datetime) -> DueSet:
    """Live cases whose validity ended by ``now``."""
    return DueSet("ix_cases_expires_at", LIVE, (S.PUBLISHED, S.UPDATE_DUE), CASES.c.expires_at, now)


def stale_published(policy: Policy, now: datetime) -> ColumnElement[bool]:
    """Published cases whose content has not changed for the policy's staleness months by ``now``."""
    return stale_due(policy, now).where


def stale_due(policy: Policy, now: datetime) -> DueSet:
    cutoff = add_months(now, -policy.doc.lifecycle.staleness_months)
    return DueSet("ix_cases_stale", PUBLISHED_ONLY, (S.PUBLISHED,), CASES.c.content_updated_at, cutoff)


def approved_due() -> DueSet:
    """Approved cases, oldest approval first (all are due: publishing is the next step)."""
    return DueSet("ix_cases_approved", APPROVED_ONLY, (S.APPROVED,), CASES.c.state_changed_at)


def scheduled_due() -> DueSet:
    """Cases scheduled for the monthly batch, in the order they were scheduled."""
    return DueSet("ix_cases_scheduled", SCHEDULED_ONLY, (S.SCHEDULED,), CASES.c.state_changed_at)


def claimed_batches(ctx: AppContext, due: DueSet) -> Iterator[tuple[Connection, list[Any]]]:
    """Due cases in index order, a batch per transaction: walk the index for the next batch's ids, then claim
    those rows. A batch whose rows another run holds comes back empty and the walk goes on past it; a row another
    run already handled is re-checked harmlessly (transitions refuse, outbox keys exist)."""
    after: tuple[datetime, int] | None = None
    size = ctx.policy.doc.notifications.batch_size
    while True:
        with ctx.engine.begin() as conn:
            walked = conn.execute(batch_statement(due, after, size)).all()
            if not walked:
                return
            after = (walked[-1][0], walked[-1][1])
            order = {row[1]: n for n, row in enumerate(walked)}
            rows = sorted(conn.execute(claim_statement(conn, due, list(order))).all(), key=lambda r: order[r.id])
            if rows:
                yield conn, rows


def usernames(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Active or not, the usernames of these user ids (one query for a batch)."""
    return dict(conn.execute(select(USERS.c.id, USERS.c.username).where(USERS.c.id.in_(set(ids)))).all())


def add_work_item(conn: Connection, ctx: AppContext, *, key: str, kind: str, case_id: int | None, role: str | None,
                  reason: str, due_at: datetime, assignee: str | None = None,
                  details: dict[str, Any] | None = None) -> bool:
    """An open work item for a role (or a named person), once per ``key``."""
    return insert_if_absent(conn, WORK, work_item(ctx, key=key, kind=kind, case_id=case_id, role=role, reason=reason,
                                                  due_at=due_at, assignee=assignee, details=details), ["key"])


def work_item(ctx: AppContext, *, key: str, kind: str, case_id: int | None, role: str | None, reason: str,
              due_at: datetime, assignee: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"key": key, "kind": kind, "case_id": case_id, "assignee_role": role, "assignee": assignee,
            "reason": reason, "status": "open", "due_at": due_at, "created_at": ctx.clock.now(),
            "policy_version": ctx.policy.version_tag, "details": details}


# -- submission reminders -------------------------------------------------------------------------------------

def submission_decisions(policy: Any, due: date, today: date) -> list[tuple[str, str, int]]:
    """Pure: for a draft due on ``due`` (local date), [(kind, period, escalation step)] due today. Reminders
    before the deadline at the policy's offsets (the nearest one passed, so a missed run never sends a
    burst), then escalation along the policy chain every ``escalation_interval_days`` after it."""
    sub = policy.doc.deadlines.submission
    days_left = (due - today).days
    if days_left >= 0:
        passed = [o for o in sub.reminder_offsets_days if days_left <= o]
        return [("submission_reminder", f"before-{min(passed)}", -1)] if passed else []
    overdue = -days_left
    step = min((overdue - 1) // sub.escalation_interval_days, len(sub.escalation_chain) - 1)
    return [("submission_overdue", f"overdue-{step}", step)]


def submission_reminders(ctx: AppContext) -> dict[str, int]:
    now = ctx.clock.now()
    tz = ctx.clock.tz
    today = now.astimezone(tz).date()
    horizon = now + timedelta(days=max(ctx.policy.doc.deadlines.submission.reminder_offsets_days) + 1)
    counts = {"reminders": 0, "escalations": 0}
    chain = ctx.policy.doc.deadlines.submission.escalation_chain
    for conn, batch in claimed_batches(ctx, submission_due_by(horizon)):
        names, holders = usernames(conn, (c.author_id for c in batch)), RoleHolders(conn, ctx.policy)
        shown = display_names(conn, names.values())       # e-mails name people, not sign-in names
        notices: list[Notice] = []
        for case, ref in zip(batch, case_refs(batch, conn)):
            due_on = case.submission_due.astimezone(tz).date()
            for kind, period, step in submission_decisions(ctx.policy, due_on, today):
                author = names.get(case.author_id)
                payload = {"case": ref, "due": due_on.isoformat(), "days_left": (due_on - today).days,
                           "days_overdue": (today - due_on).days, "author": author,
                           "author_name": shown.get(author or "")}
                targets = [author] if step < 0 else [author] + holders(chain[step], case.department)
                notices += [Notice(kind, case.key, user, period, payload) for user in dict.fromkeys(targets) if user]
        for key in enqueue_many(conn, notices, now):
            counts["reminders" if key.startswith("submission_reminder|") else "escalations"] += 1
    return counts


# -- publishing -------------------------------------------------------------------------------------------------

def publish_approved(ctx: AppContext) -> dict[str, int]:
    """Approved cases go live: instant channels publish now, batch channels are scheduled for the month."""
    counts = {"published": 0, "scheduled": 0}
    service = CaseService(ctx)
    for conn, batch in claimed_batches(ctx, approved_due()):
        moved = service.fire_batch(FLOW_ACTOR, batch, "publish", conn=conn)
        live = [case for case, dest in moved if dest == S.PUBLISHED]
        counts["published"] += len(live)
        counts["scheduled"] += len(moved) - len(live)
        _notify_published(ctx, conn, live)
    return counts


def _notify_published(ctx: AppContext, conn: Connection, cases: list[Any],
                      refs: list[dict[str, Any]] | None = None) -> None:
    """Tell author and owner that their case is live (``cases``: the rows as read before publishing; ``refs``:
    their ``case_refs`` when the caller has them)."""
    names = usernames(conn, [i for c in cases for i in (c.author_id, c.owner_id)])
    enqueue_many(conn, [Notice("case_published", case.key, names[user_id], f"v{case.current_version_no}",
                               {"case": ref})
                        for case, ref in zip(cases, refs if refs is not None else case_refs(cases, conn))
                        for user_id in dict.fromkeys((case.author_id, case.owner_id)) if user_id in names],
                 ctx.clock.now())


def monthly_publish(ctx: AppContext) -> dict[str, int]:
    """The monthly batch: every scheduled case is released at once."""
    released = 0
    service = CaseService(ctx)
    month = ctx.clock.now().astimezone(ctx.clock.tz).strftime("%Y-%m")
    for conn, batch in claimed_batches(ctx, scheduled_due()):
        moved = [case for case, _ in service.fire_batch(FLOW_ACTOR, batch, "release", conn=conn)]
        released += len(moved)
        refs = case_refs(moved, conn)
        _notify_published(ctx, conn, moved, refs)
        if moved:   # role chat groups hear of the batch in its transaction (one post per batch of the run)
            refs = [ref | {"state": S.PUBLISHED, "published": True} for ref in refs]
            announce(conn, ctx.policy, ctx.settings, kind="batch_published", subject_id=f"batch-{moved[0].key}",
                     period=month, payload={"month": month, "cases": refs}, now=ctx.clock.now())
    return {"published": released}


# -- expiry, staleness ------------------------------------------------------------------------------------------

def expiry_audit(ctx: AppContext) -> dict[str, int]:
    """Cases past their validity (by library) move to pending evaluation with an evaluation task for operations."""
    now = ctx.clock.now()
    expired = 0
    lp = ctx.policy.doc.lifecycle
    service = CaseService(ctx)
    due = ctx.calendar.add_workdays(now, lp.evaluation_task_working_days)
    due_on = due.astimezone(ctx.clock.tz).date().isoformat()
    for conn, batch in claimed_batches(ctx, past_validity(now)):
        moved = [case for case, _ in service.fire_batch(FLOW_ACTOR, batch, "expire", conn=conn)]
        expired += len(moved)
        insert_many_if_absent(conn, WORK, [
            work_item(ctx, key=f"evaluation|{case.key}|{case.expires_at.date()}", kind="evaluation", case_id=case.id,
                      role=ctx.policy.doc.operations_role, reason=coded_reason("validity_ended"), due_at=due) for case in moved], ["key"])
        names, operations = usernames(conn, (c.owner_id for c in moved)), users_with_role(
            conn, ctx.policy, ctx.policy.doc.operations_role)
        notices = []
        for case, ref in zip(moved, case_refs(moved, conn)):
            payload = {"case": ref, "expired_on": case.expires_at.astimezone(ctx.clock.tz).date()
                       .isoformat(), "evaluation_due": due_on}
            notices += [Notice("expiry_evaluation", case.key, user, str(case.expires_at.date()), payload)
                        for user in dict.fromkeys([*operations, names.get(case.owner_id)]) if user]
        enqueue_many(conn, notices, now)
    return {"expired": expired}


def staleness_audit(ctx: AppContext) -> dict[str, int]:
    """Published cases whose content has not changed for the policy's months are flagged for update."""
    now = ctx.clock.now()
    flagged = 0
    service = CaseService(ctx)
    for conn, batch in claimed_batches(ctx, stale_due(ctx.policy, now)):
        moved = [case for case, _ in service.fire_batch(FLOW_ACTOR, batch, "flag_update", conn=conn)]
        flagged += len(moved)
        names = usernames(conn, [i for c in moved for i in (c.owner_id, c.author_id)])
        notices = []
        for case, ref in zip(moved, case_refs(moved, conn)):
            last = case.content_updated_at.astimezone(ctx.clock.tz).date().isoformat()
            notices += [Notice("stale_case", case.key, names[user_id], last, {"case": ref, "last_update": last})
                        for user_id in dict.fromkeys((case.owner_id, case.author_id)) if user_id in names]
        enqueue_many(conn, notices, now)
    return {"stale": flagged}


# -- ratings ----------------------------------------------------------------------------------------------------

def rating_stats(conn: Connection) -> dict[int, tuple[float, int]]:
    rows = conn.execute(select(RATINGS.c.case_id, func.avg(RATINGS.c.stars), func.count())
                        .group_by(RATINGS.c.case_id)).all()
    return {r[0]: (float(r[1]), int(r[2])) for r in rows}


def low_rating_rectification(ctx: AppContext) -> dict[str, int]:
    """Published cases averaging below the policy's threshold get a rectification task due to start in 48 h."""
    now = ctx.clock.now()
    rp, np_ = ctx.policy.doc.ratings, ctx.policy.doc.notifications
    month = now.astimezone(ctx.clock.tz).strftime("%Y-%m")
    created = 0
    with ctx.engine.begin() as conn:
        stats = rating_stats(conn)
        low = [cid for cid, (avg, n) in stats.items() if n >= np_.rectification_min_ratings
               and avg < rp.rectification_below]
        if low:
            rows = conn.execute(select(CASES).where(CASES.c.id.in_(low), CASES.c.state == S.PUBLISHED)).all()
            for case in rows:
                avg, n = stats[case.id]
                start_by = now + timedelta(hours=rp.rectification_start_hours)
                if not add_work_item(conn, ctx, key=f"rectification|{case.key}|{month}", kind="rectification",
                                     case_id=case.id, role=ctx.policy.doc.operations_role, due_at=start_by,
                                     reason=coded_reason("low_rating", average=round(avg, 1), ratings=n)):
                    continue
                created += 1
                payload = {"case": case_ref(case, conn), "average": f"{avg:.1f}", "ratings": n,
                           "start_by": start_by.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M")}
                owner = username_of(conn, case.owner_id)
                for user in dict.fromkeys([owner, *users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role)]):
                    if user:
                        enqueue(conn, kind="rectification", subject_id=case.key, recipient=user, period=month,
                                payload=payload, now=now, digestible=False)
    return {"rectifications": created}


def value_score(policy: Any, case: Any, stats: dict[int, tuple[float, int]], now: datetime) -> float:
    """The documented value score (policy ``notifications.value_score``): stars, how many rated, freshness."""
    weights = policy.doc.notifications.value_score
    avg, n = stats.get(case.id, (0.0, 0))
    validity = policy.doc.libraries[case.library].validity_months if case.library in policy.doc.libraries else 12
    updated = case.content_updated_at or case.created_at
    months = (now - updated).days / 30.4
    return round(weights.get("rating", 0) * avg / policy.doc.ratings.scale_max
                 + weights.get("ratings_count", 0) * min(1.0, n / 10)
                 + weights.get("freshness", 0) * max(0.0, 1 - months / validity), 4)


# -- archive, micro-case watch --------------------------------------------------------------------------------

def _plain_batch(ctx: AppContext, where: Any) -> Iterator[tuple[Connection, list[Any]]]:
    """The matching cases in id order, in one transaction (small sets with no partial index of their own)."""
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(CASES).where(where).order_by(CASES.c.id)).all()
        if rows:
            yield conn, rows


def archive_retired(ctx: AppContext) -> dict[str, int]:
    """Retired cases are archived once the policy's ``lifecycle.archive_after_retired_days`` have passed."""
    days = ctx.policy.doc.lifecycle.archive_after_retired_days
    cutoff = ctx.clock.now() - timedelta(days=days)
    why = coded_reason("archived_after_retirement", days=days)   # shown in each reader's language
    archived = 0
    for conn, batch in _plain_batch(ctx, (CASES.c.state == S.RETIRED) & (CASES.c.state_changed_at <= cutoff)):
        for case in batch:
            try:
                CaseService(ctx).fire(FLOW_ACTOR, case.key, "archive", conn=conn, reason=why)
                archived += 1
            except (IllegalTransition, ConcurrentModification):
                continue   # moved meanwhile
    return {"archived": archived}


def _not_yet_live(policy: Policy) -> list[str]:
    """States a micro-case can still be made live from (a final or live state needs no alert)."""
    return [S.DRAFT, S.SUBMITTED, *S.review_states(policy.max_review_levels), S.RETURNED, S.APPROVED, S.SCHEDULED]


def micro_case_watch(ctx: AppContext) -> dict[str, int]:
    """Micro-cases not live within the policy's ``deadlines.micro_case_live_hours`` of capture: operations get
    a work item and an alert (once per case)."""
    now = ctx.clock.now()
    hours = ctx.policy.doc.deadlines.micro_case_live_hours
    late = (CASES.c.micro.is_(True)) & CASES.c.state.in_(_not_yet_live(ctx.policy)) & \
        (CASES.c.created_at <= now - timedelta(hours=hours))
    alerts = 0
    role = ctx.policy.doc.operations_role
    for conn, batch in _plain_batch(ctx, late):
        for case in batch:
            if not add_work_item(conn, ctx, key=f"micro_not_live|{case.key}", kind="micro_not_live",
                                 case_id=case.id, role=role, due_at=now,
                                 reason=coded_reason("micro_not_live", hours=hours, state=case.state)):
                continue
            alerts += 1
            for user in users_with_role(conn, ctx.policy, role):
                enqueue(conn, kind="micro_not_live", subject_id=case.key, recipient=user, period="late",
                        payload={"case": case_ref(case), "hours": hours, "state": case.state}, now=now,
                        digestible=False)
    return {"micro_not_live": alerts}

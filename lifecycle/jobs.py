"""Scheduled lifecycle work as "what is due at time T" (pure selection from stored state, policy and clock)
plus idempotent actions: transitions through the state machine and outbox rows, a batch per transaction.

Every function takes the application context (its clock says what T is) and returns counts of what it did;
the Prefect flows and ``casebook simulate`` call exactly these.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.db import insert_if_absent, skip_locked
from casebook.core.errors import ConcurrentModification, IllegalTransition, InvalidInput, Problem
from casebook.core.users import Actor
from lifecycle import states as S
from lifecycle.models import AWAITING_SUBMISSION, LIVE, Case
from lifecycle.service import CaseService
from lifecycle.worklist import Rating, WorkItem
from notifications.audience import case_ref, username_of, users_with_role
from notifications.outbox import enqueue
from policies.loader import Policy

CASES = Case.__table__
RATINGS = Rating.__table__
WORK = WorkItem.__table__
FLOW_ACTOR = Actor.system("flow")


def batch_statement(conn: Connection, where: Any, after_id: int, size: int) -> Any:
    """The next batch of cases matching ``where`` after ``after_id`` in id order (locked with SKIP LOCKED on
    PostgreSQL)."""
    stmt = select(CASES).where(where, CASES.c.id > after_id).order_by(CASES.c.id).limit(size)
    return skip_locked(conn, stmt)


def submission_due_by(horizon: datetime) -> Any:
    """Drafts whose submission deadline falls by ``horizon`` (walks the partial index ix_cases_submission_due)."""
    return text(AWAITING_SUBMISSION) & CASES.c.submission_due.is_not(None) & (CASES.c.submission_due <= horizon)


def past_validity(now: datetime) -> Any:
    """Live cases whose validity ended by ``now`` (walks the partial index ix_cases_expires_at)."""
    return text(LIVE) & (CASES.c.expires_at <= now)


def stale_published(policy: Policy, now: datetime) -> Any:
    """Published cases whose content has not changed for the policy's staleness months by ``now``."""
    cutoff = add_months(now, -policy.doc.lifecycle.staleness_months)
    return (CASES.c.state == S.PUBLISHED) & (CASES.c.content_updated_at <= cutoff)


def claimed_batches(ctx: AppContext, where: Any) -> Iterator[tuple[Connection, list[Any]]]:
    """Due cases in id order, a batch per transaction. On PostgreSQL each batch's rows are locked with
    SKIP LOCKED, so runs on several workers take disjoint batches (and never deadlock on each other's rows);
    a row another run already handled is re-checked harmlessly (transitions refuse, outbox keys exist)."""
    last = 0
    size = ctx.policy.doc.notifications.batch_size
    while True:
        with ctx.engine.begin() as conn:
            rows = conn.execute(batch_statement(conn, where, last, size)).all()
            if not rows:
                return
            yield conn, rows
            last = rows[-1].id


def _fire(ctx: AppContext, conn: Connection, key: str, event: str, reason: str | None = None) -> bool:
    """Fire a flow transition; a case that moved meanwhile (another run, a person) is skipped, not an error."""
    try:
        CaseService(ctx).fire(FLOW_ACTOR, key, event, reason=reason, conn=conn)
        return True
    except (IllegalTransition, ConcurrentModification):
        return False


def add_work_item(conn: Connection, ctx: AppContext, *, key: str, kind: str, case_id: int | None, role: str | None,
                  reason: str, due_at: datetime) -> bool:
    row = {"key": key, "kind": kind, "case_id": case_id, "assignee_role": role, "reason": reason, "status": "open",
           "due_at": due_at, "created_at": ctx.clock.now(), "policy_version": ctx.policy.version_tag}
    return insert_if_absent(conn, WORK, row, ["key"])


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
        for case in batch:
            due_on = case.submission_due.astimezone(tz).date()
            for kind, period, step in submission_decisions(ctx.policy, due_on, today):
                author = username_of(conn, case.author_id)
                payload = {"case": case_ref(case, conn), "due": due_on.isoformat(), "days_left": (due_on - today).days,
                           "days_overdue": (today - due_on).days, "author": author}
                targets = [author] if step < 0 else [author] + users_with_role(conn, ctx.policy, chain[step],
                                                                               case.department)
                for user in dict.fromkeys(t for t in targets if t):
                    if enqueue(conn, kind=kind, subject_id=case.key, recipient=user, period=period,
                               payload=payload, now=now):
                        counts["reminders" if step < 0 else "escalations"] += 1
    return counts


# -- publishing -------------------------------------------------------------------------------------------------

def publish_approved(ctx: AppContext) -> dict[str, int]:
    """Approved cases go live: instant channels publish now, batch channels are scheduled for the month."""
    counts = {"published": 0, "scheduled": 0}
    for conn, batch in claimed_batches(ctx, CASES.c.state == S.APPROVED):
        for key in (c.key for c in batch):
            if _fire(ctx, conn, key, "publish"):
                state = conn.execute(select(CASES.c.state).where(CASES.c.key == key)).scalar_one()
                counts["published" if state == S.PUBLISHED else "scheduled"] += 1
                if state == S.PUBLISHED:
                    _notify_published(ctx, conn, key)
    return counts


def _notify_published(ctx: AppContext, conn: Connection, key: str) -> None:
    case = conn.execute(select(CASES).where(CASES.c.key == key)).one()
    for user_id in {case.author_id, case.owner_id}:
        user = username_of(conn, user_id)
        if user:
            enqueue(conn, kind="case_published", subject_id=key, recipient=user,
                    period=f"v{case.published_version_no}", payload={"case": case_ref(case, conn)}, now=ctx.clock.now())


def monthly_publish(ctx: AppContext) -> dict[str, int]:
    """The monthly batch: every scheduled case is released at once."""
    released = 0
    for conn, batch in claimed_batches(ctx, CASES.c.state == S.SCHEDULED):
        for key in (c.key for c in batch):
            if _fire(ctx, conn, key, "release"):
                released += 1
                _notify_published(ctx, conn, key)
    return {"published": released}


# -- expiry, staleness ------------------------------------------------------------------------------------------

def expiry_audit(ctx: AppContext) -> dict[str, int]:
    """Cases past their validity (by library) move to pending evaluation with an evaluation task for operations."""
    now = ctx.clock.now()
    expired = 0
    lp = ctx.policy.doc.lifecycle
    for conn, batch in claimed_batches(ctx, past_validity(now)):
        for case in batch:
            if not _fire(ctx, conn, case.key, "expire"):
                continue
            expired += 1
            due = ctx.calendar.add_workdays(now, lp.evaluation_task_working_days)
            add_work_item(conn, ctx, key=f"evaluation|{case.key}|{case.expires_at.date()}", kind="evaluation",
                          case_id=case.id, role=ctx.policy.doc.operations_role, reason="validity period ended", due_at=due)
            payload = {"case": case_ref(case, conn), "expired_on": case.expires_at.astimezone(ctx.clock.tz).date()
                       .isoformat(), "evaluation_due": due.astimezone(ctx.clock.tz).date().isoformat()}
            owner = username_of(conn, case.owner_id)
            for user in dict.fromkeys([*users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role), owner]):
                if user:
                    enqueue(conn, kind="expiry_evaluation", subject_id=case.key, recipient=user,
                            period=str(case.expires_at.date()), payload=payload, now=now)
    return {"expired": expired}


def staleness_audit(ctx: AppContext) -> dict[str, int]:
    """Published cases whose content has not changed for the policy's months are flagged for update."""
    now = ctx.clock.now()
    flagged = 0
    for conn, batch in claimed_batches(ctx, stale_published(ctx.policy, now)):
        for case in batch:
            if not _fire(ctx, conn, case.key, "flag_update"):
                continue
            flagged += 1
            last = case.content_updated_at.astimezone(ctx.clock.tz).date().isoformat()
            for user_id in {case.owner_id, case.author_id}:
                user = username_of(conn, user_id)
                if user:
                    enqueue(conn, kind="stale_case", subject_id=case.key, recipient=user, period=last,
                            payload={"case": case_ref(case, conn), "last_update": last}, now=now)
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
                                     reason=f"average rating {avg:.1f} over {n} ratings"):
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

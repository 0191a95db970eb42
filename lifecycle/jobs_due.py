"""The 48-hour clocks and the stale re-check, as "what is due at T" plus idempotent actions (issue 14).

* A correction request's answer (``ratings.correction_answer_hours``) and a rectification's start
  (``ratings.rectification_start_hours``) are work items with a due time. ``work_due_decision`` says, from policy,
  the item's due time and the clock alone, what is owed now: a reminder to the assignee within
  ``ratings.due_reminder_hours`` of the due time; once overdue, the assignee and the next role of
  ``ratings.escalation_chain`` (scoped to the case's department where the role is), one step every
  ``ratings.escalation_interval_hours`` — the nearest step only, so a missed run never sends a burst.
* A case flagged stale (``update_due``) whose owner has not started the update within
  ``lifecycle.stale_recheck_grace_days`` gets a re-check work item for operations, in their inbox.

Every notice is an outbox row keyed by (kind, item, recipient, step), every item a work item keyed by case and
flag date: running a job twice writes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, tuple_

from casebook.core.context import AppContext
from casebook.core.reasons import reason as coded_reason
from lifecycle import states as S
from lifecycle.jobs import CASES, DueSet, add_work_item, claimed_batches, usernames
from lifecycle.models import UPDATE_DUE_ONLY
from lifecycle.work import LIVE as WORK_LIVE
from lifecycle.worklist import WorkItem
from notifications.audience import RoleHolders, case_ref, users_with_role
from notifications.outbox import Notice, enqueue_many
from policies.loader import Policy

WORK = WorkItem.__table__
#: Work items whose due time runs a reminder and escalation clock.
TIMED_KINDS = ("correction", "rectification")
DUE_SOON, OVERDUE = "work_due_soon", "work_overdue"


def work_due_decision(policy: Policy, due_at: datetime, now: datetime) -> tuple[str, str, int] | None:
    """Pure: (notice kind, period, escalation step) owed at ``now`` for an open item due at ``due_at``, or None.
    Step -1 is the assignee alone; step k also tells ``escalation_chain[k]``."""
    rp = policy.doc.ratings
    if now < due_at:
        if due_at - now <= timedelta(hours=rp.due_reminder_hours):
            return DUE_SOON, "due-soon", -1
        return None
    hours = (now - due_at) / timedelta(hours=1)
    step = min(int(hours // rp.escalation_interval_hours), len(rp.escalation_chain) - 1)
    return OVERDUE, f"overdue-{step}", step


def _due_items(horizon: datetime, after: tuple[datetime, int] | None, size: int) -> Any:
    """Open timed work items due by ``horizon`` after ``after``, in (due, id) order (ix_work_items_open)."""
    stmt = select(WORK).where(WORK.c.status.in_(WORK_LIVE), WORK.c.kind.in_(TIMED_KINDS), WORK.c.due_at <= horizon)
    if after is not None:
        stmt = stmt.where(tuple_(WORK.c.due_at, WORK.c.id) > tuple_(
            bindparam("after_due", after[0], type_=WORK.c.due_at.type), bindparam("after_id", after[1])))
    return stmt.order_by(WORK.c.due_at, WORK.c.id).limit(size)


def work_item_reminders(ctx: AppContext) -> dict[str, int]:
    """Reminders and escalations for correction answers and rectification starts, a batch per transaction."""
    now = ctx.clock.now()
    chain = ctx.policy.doc.ratings.escalation_chain
    horizon = now + timedelta(hours=ctx.policy.doc.ratings.due_reminder_hours)
    size = ctx.policy.doc.notifications.batch_size
    counts = {"reminders": 0, "escalations": 0}
    after: tuple[datetime, int] | None = None
    while True:
        with ctx.engine.begin() as conn:
            items = conn.execute(_due_items(horizon, after, size)).all()
            if not items:
                return counts
            after = (items[-1].due_at, items[-1].id)
            cases = {c.id: c for c in conn.execute(select(CASES).where(
                CASES.c.id.in_({i.case_id for i in items if i.case_id})))}
            holders = RoleHolders(conn, ctx.policy)
            notices: list[Notice] = []
            for item in items:
                decided = work_due_decision(ctx.policy, item.due_at, now)
                case = cases.get(item.case_id)
                if decided is None or case is None:
                    continue
                kind, period, step = decided
                assignees = [item.assignee] if item.assignee else holders(item.assignee_role or "", case.department)
                targets = assignees + (holders(chain[step], case.department) if step >= 0 else [])
                payload = {"case": case_ref(case, conn), "work_kind": item.kind,
                           "due": item.due_at.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M"),
                           "hours_overdue": max(0, int((now - item.due_at) / timedelta(hours=1))),
                           "assignee": item.assignee or item.assignee_role}
                notices += [Notice(kind, f"work-{item.id}", user, period, payload, digestible=kind == DUE_SOON)
                            for user in dict.fromkeys(targets) if user]
            for key in enqueue_many(conn, notices, now):
                counts["reminders" if key.startswith(f"{DUE_SOON}|") else "escalations"] += 1


def flagged_stale_by(policy: Policy, now: datetime) -> DueSet:
    """Cases flagged for update (``update_due``) at least the policy's grace days before ``now``."""
    cutoff = now - timedelta(days=policy.doc.lifecycle.stale_recheck_grace_days)
    return DueSet("ix_cases_update_due", UPDATE_DUE_ONLY, (S.UPDATE_DUE,), CASES.c.state_changed_at, cutoff)


def stale_recheck(ctx: AppContext) -> dict[str, int]:
    """Stale cases their owners left un-updated past the grace period: a re-check task for operations (once per
    flagging), due like an expiry evaluation, and a notice to each operations member and the owner."""
    now = ctx.clock.now()
    lp, role = ctx.policy.doc.lifecycle, ctx.policy.doc.operations_role
    due = ctx.calendar.add_workdays(now, lp.evaluation_task_working_days)
    created = 0
    for conn, batch in claimed_batches(ctx, flagged_stale_by(ctx.policy, now)):
        operations, owners = users_with_role(conn, ctx.policy, role), usernames(conn, (c.owner_id for c in batch))
        notices: list[Notice] = []
        for case in batch:
            flagged = case.state_changed_at.astimezone(ctx.clock.tz).date().isoformat()
            if not add_work_item(conn, ctx, key=f"stale_recheck|{case.key}|{flagged}", kind="stale_recheck",
                                 case_id=case.id, role=role, due_at=due,
                                 reason=coded_reason("stale_recheck", flagged_on=flagged,
                                               days=lp.stale_recheck_grace_days)):
                continue
            created += 1
            payload = {"case": case_ref(case, conn), "flagged_on": flagged,
                       "due": due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M")}
            notices += [Notice("stale_recheck", case.key, user, flagged, payload)
                        for user in dict.fromkeys([*operations, owners.get(case.owner_id)]) if user]
        enqueue_many(conn, notices, now)
    return {"stale_rechecks": created}


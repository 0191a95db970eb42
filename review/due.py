"""Due review work at time T, as a pure function of policy, stored tasks and the clock.

``classify`` decides one task; ``due_review_work`` reads the candidate tasks and classifies them. The flows
issue calls it and applies idempotent actions (reminders, escalations) to what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from casebook.core.workdays import WorkCalendar
from lifecycle.models import Case
from policies.loader import Policy
from review.chain import level_of
from review.models import CLAIMED, OPEN, ReviewTask
from review.sla import DUE_SOON, OVERDUE, sla_status

TASKS = ReviewTask.__table__
CASES = Case.__table__

REMIND, BACKUP, MANAGER = "reviewer", "backup", "manager"


@dataclass(frozen=True)
class DueItem:
    """One task that needs attention, and who is next in its escalation chain."""

    task_id: int
    case_key: str
    level: int
    status: str                 # due_soon | overdue
    step: str                   # reviewer | backup | manager
    notify_role: str | None     # None: the reviewer(s) themselves
    notify_department: str | None
    claimed_by: str | None
    due_at: datetime
    overdue_working_days: int


def classify(policy: Policy, calendar: WorkCalendar, task: Any, case: Any, now: datetime) -> DueItem | None:
    """Pure: the attention a task needs at ``now``, or None when it is on time."""
    review = policy.doc.review
    status = sla_status(calendar, task.due_at, now, review.due_soon_working_days)
    if status not in (DUE_SOON, OVERDUE):
        return None
    level = level_of(policy, case, task.level)
    overdue_days = (calendar.workdays_between(task.due_at.astimezone(now.tzinfo).date(), now.date())
                    if status == OVERDUE else 0)
    if status == DUE_SOON:
        step, role = REMIND, None
    elif overdue_days >= review.escalate_to_manager_after_working_days:
        step, role = MANAGER, level.manager_role
    else:
        step, role = BACKUP, level.backup_role
    department = task.candidate_department if role and policy.role(role).department_scoped else None
    return DueItem(task.id, task.case_key, task.level, status, step, role, department, task.claimed_by, task.due_at,
                   overdue_days)


def due_review_work(conn: Connection, policy: Policy, calendar: WorkCalendar, now: datetime) -> list[DueItem]:
    """Every live task that is due soon or overdue at ``now``, most urgent first."""
    horizon = calendar.add_workdays(now, policy.doc.review.due_soon_working_days)
    rows = conn.execute(
        select(TASKS, CASES.c.library, CASES.c.micro)
        .join(CASES, CASES.c.id == TASKS.c.case_id)
        .where(TASKS.c.status.in_([OPEN, CLAIMED]), TASKS.c.due_at <= horizon)
        .order_by(TASKS.c.due_at, TASKS.c.id)).all()
    items = [classify(policy, calendar, row, row, now) for row in rows]
    return [item for item in items if item is not None]

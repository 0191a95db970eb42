"""Due review work at time T, as a pure function of policy, stored tasks and the clock.

``classify`` decides one task; ``due_review_work`` reads the candidate tasks and classifies them. The flows
issue calls it and applies idempotent actions (reminders, escalations) to what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.engine import Connection

from casebook.core.workdays import WorkCalendar
from lifecycle.models import Case
from policies.loader import Policy
from review.chain import level_of
from review.models import LIVE_TASK, ReviewTask
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


def due_tasks_statement(horizon: datetime, after: tuple[datetime, int] | None = None, size: int | None = None) -> Any:
    """(due time, id) of live tasks due by ``horizon`` after ``after``, in that order: a walk of the partial index
    ix_review_tasks_live alone (its predicate repeated verbatim so both planners can prove it applies)."""
    stmt = select(TASKS.c.due_at, TASKS.c.id).where(text(LIVE_TASK), TASKS.c.due_at <= horizon)
    if after is not None:
        stmt = stmt.where(tuple_(TASKS.c.due_at, TASKS.c.id) > tuple_(
            bindparam("after_due", after[0], type_=TASKS.c.due_at.type), bindparam("after_id", after[1])))
    stmt = stmt.order_by(TASKS.c.due_at, TASKS.c.id)
    return stmt if size is None else stmt.limit(size)


def task_rows(conn: Connection, ids: list[int]) -> list[Any]:
    """The walked tasks with their case's chain facts, by primary key, in the order given."""
    order = {task_id: n for n, task_id in enumerate(ids)}
    rows = conn.execute(select(TASKS, CASES.c.library, CASES.c.micro).join(CASES, CASES.c.id == TASKS.c.case_id)
                        .where(TASKS.c.id.in_(ids))).all()
    return sorted(rows, key=lambda r: order[r.id])


def due_horizon(policy: Policy, calendar: WorkCalendar, now: datetime) -> datetime:
    """Tasks due by then are due soon or overdue at ``now``."""
    return calendar.add_workdays(now, policy.doc.review.due_soon_working_days)


def classify_rows(policy: Policy, calendar: WorkCalendar, rows: Any, now: datetime) -> list[DueItem]:
    items = [classify(policy, calendar, row, row, now) for row in rows]
    return [item for item in items if item is not None]


def due_review_work(conn: Connection, policy: Policy, calendar: WorkCalendar, now: datetime) -> list[DueItem]:
    """Every live task that is due soon or overdue at ``now``, most urgent first."""
    ids = [row.id for row in conn.execute(due_tasks_statement(due_horizon(policy, calendar, now)))]
    return classify_rows(policy, calendar, task_rows(conn, ids), now)

"""Who may work on a review task, written once: the task's candidate group (role, and department where the
level is scoped), and separation of duties (an author or owner never reviews their own case; one person never
approves two levels of one case in a round). The rules are SQL expressions over the task row, so the queue
filters with them, a claim or reassignment asks the same expressions which rule blocks, and the lifecycle asks
them (through the refusal hook review installs) before a review decision or when listing allowed events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.engine import Connection

from casebook.core.errors import Reason
from casebook.core.users import Actor
from lifecycle.models import Case
from review.models import ReviewDecision, ReviewTask

TASKS = ReviewTask.__table__
CASES = Case.__table__
DECISIONS = ReviewDecision.__table__
REVIEW_DECISIONS = frozenset({"approve", "return_for_revision", "reject"})


def in_candidate_group(actor: Actor) -> ColumnElement[bool]:
    return and_(TASKS.c.candidate_role == actor.role,
                or_(TASKS.c.candidate_department.is_(None), TASKS.c.candidate_department == actor.department))


def own_case(actor: Actor) -> ColumnElement[bool]:
    owned = CASES.alias("owned")
    return exists().where(owned.c.id == TASKS.c.case_id,
                          or_(owned.c.owner_id == actor.user_id, owned.c.author_id == actor.user_id))


def approved_earlier_level(actor: Actor) -> ColumnElement[bool]:
    return exists().where(DECISIONS.c.case_id == TASKS.c.case_id, DECISIONS.c.round == TASKS.c.round,
                          DECISIONS.c.task_id != TASKS.c.id, DECISIONS.c.reviewer == actor.username,
                          DECISIONS.c.decision == "approve")


def eligible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL for 'this actor may work on the task'."""
    return and_(in_candidate_group(actor), ~own_case(actor), ~approved_earlier_level(actor))


def why_not(conn: Connection, actor: Actor, task: Any, *, group_ok: bool = False) -> str:
    """The rule that keeps an actor from a task, or '' when none does (the same expressions the queue uses).

    ``group_ok``: the candidate group is already settled (a backup took the overdue task over, or the actor
    holds the claim), so only separation of duties is asked."""
    row = conn.execute(select(in_candidate_group(actor).label("group"), own_case(actor).label("own"),
                              approved_earlier_level(actor).label("twice"))
                       .select_from(TASKS).where(TASKS.c.id == task.id)).one()
    if not row.group and not group_ok:
        scope = f" in department '{task.candidate_department}'" if task.candidate_department else ""
        return (Reason("err_task_for_role_in", id=task.id, role=task.candidate_role, department=task.candidate_department)
                if task.candidate_department else Reason("err_task_for_role", id=task.id, role=task.candidate_role))
    if row.own:
        return Reason("err_sod_own_case")
    if row.twice:
        return Reason("err_sod_two_levels")
    return ""


def decision_refusal(conn: Connection, service: Any, case: Any, actor: Actor, event: str) -> str:
    """Refusal hook for the lifecycle: a review decision is for whoever may work on the level's task."""
    if event not in REVIEW_DECISIONS or actor.is_system or not case.state.startswith("review_l"):
        return ""
    # the level's task of this round (a decision closes it in the same transaction before firing the event)
    task = conn.execute(select(TASKS).where(TASKS.c.case_id == case.id, TASKS.c.round == case.review_round,
                                            TASKS.c.level == case.review_level)
                        .order_by(TASKS.c.id.desc()).limit(1)).one_or_none()
    if task is None:
        return Reason("err_no_open_task", case=case.key, level=case.review_level)
    # whoever holds the task's claim passed the group rule when claiming (a backup may hold an overdue one)
    return why_not(conn, actor, task, group_ok=task.claimed_by == actor.username)




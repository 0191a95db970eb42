"""Tasks follow the case: entering a review level opens one for its candidate group; leaving closes the rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select

from casebook.core.hooks import Hooks
from lifecycle import hooks
from review.chain import candidate_department, level_of
from review.duties import in_candidate_group
from review.models import CANCELLED, CLAIMED, OPEN, ReviewTask

TASKS = ReviewTask.__table__
_CANCEL_OPEN = TASKS.update().where(TASKS.c.case_id == bindparam("b_case"),
                                    TASKS.c.status.in_([OPEN, CLAIMED])).values(status=CANCELLED,
                                                                                  decided_at=bindparam("b_now"))


def reviews_case(conn: Any, case: Any, actor: Any) -> bool:
    """Whoever holds, or may claim, an open task of the case reads the version under review, and so does whoever
    decided one of its tasks in the round still under review (a level-1 reviewer reads what they passed on)."""
    if actor.is_system:
        return True
    current = TASKS.c.status.in_([OPEN, CLAIMED])
    if str(case.state).startswith("review_l"):
        current = or_(current, TASKS.c.round == case.review_round)
    found = conn.execute(select(TASKS.c.id).where(
        TASKS.c.case_id == case.id, current,
        or_(TASKS.c.claimed_by == actor.username, and_(TASKS.c.status == OPEN, in_candidate_group(actor))))
        .limit(1)).first()
    return found is not None


def follow_case(t: hooks.TransitionEvent) -> None:
    """Keep the task list in step with the case's state, in the transition's own transaction."""
    if t.source.startswith("review_l"):
        # The decided task is already closed by the decision; anything still open is moot now.
        t.conn.execute(_CANCEL_OPEN, {"b_case": t.case.id, "b_now": t.now})
    if t.dest.startswith("review_l"):
        level_no = int(t.dest.removeprefix("review_l"))
        policy, calendar = t.service.policy, t.service.ctx.calendar
        level = level_of(policy, t.case, level_no)
        t.conn.execute(TASKS.insert(), {
            "case_id": t.case.id, "case_key": t.case.key, "round": t.case.review_round, "level": level_no,
            "level_name": level.name, "candidate_role": level.role,
            "candidate_department": candidate_department(level, t.case.department), "status": OPEN,
            "claimed_by": None, "claimed_at": None, "created_at": t.now,
            "due_at": calendar.add_workdays(t.now, level.sla_working_days), "decided_at": None, "decision": None,
            "policy_version": policy.version_tag})


def _decided_through_task(conn: Any, service: Any, case: Any, document: dict[str, Any],
                          scratch: dict[str, Any]) -> list[str]:
    """Review decisions carry their task (and so the rubric and the claim); listings ask what would be allowed."""
    if scratch.get("listing") or scratch.get("details", {}).get("task"):
        return []
    return ["review decisions are made on a claimed task: casebook review claim / review decide"]


def install(registry: Hooks) -> None:
    """Tasks follow the case's state; review decisions go through a claimed task."""
    registry.on_transition(follow_case)
    registry.working_reader(reviews_case)
    for event in ("approve", "return_for_revision", "reject"):
        registry.guard(event, _decided_through_task)

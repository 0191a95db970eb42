"""Deciding a claimed task: approve, return for revision (reasons anchored to body sections), reject.

The decision row, the task's closing, the case's transition (and so the next level's task) and the audit
events commit together or not at all.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from casebook.core.context import AppContext
from casebook.core.errors import Forbidden, InvalidInput, Problem, pydantic_problems
from casebook.core.users import Actor
from lifecycle.bounds import document_problems
from lifecycle.document import SECTIONS
from lifecycle.service import CaseService
from lifecycle.models import Case
from review.chain import level_of
from review.signoff import signoff_record
from review.models import CLAIMED, DONE, ReviewDecision, ReviewTask
from review.duties import why_not
from review.queue import _task
from review.rubric import rubric_problems

TASKS = ReviewTask.__table__
CASES = Case.__table__
EVENTS = {"approve": "approve", "return": "return_for_revision", "reject": "reject"}


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    section: str
    text: str = Field(min_length=1)


class DecisionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "return", "reject"]
    scores: dict[str, int] = Field(default_factory=dict)
    reasons: list[Reason] = Field(default_factory=list)
    comment: str | None = Field(default=None, max_length=2000)


def parse_decision(ctx: AppContext, raw: dict[str, Any]) -> DecisionInput:
    too_big = document_problems(ctx.policy.doc.limits, raw) if isinstance(raw, dict) else []
    if too_big:
        raise InvalidInput(too_big, "decision")
    try:
        data = DecisionInput.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(pydantic_problems(exc.errors()), "decision") from None
    problems = rubric_problems(ctx.policy.doc.review.rubric, data.scores, data.decision)
    for i, reason in enumerate(data.reasons):
        if reason.section not in SECTIONS:
            problems.append(Problem.of(f"reasons.{i}.section", "err_one_of", allowed=list(SECTIONS)))
    if data.decision == "return" and not data.reasons:
        problems.append(Problem.of("reasons", "err_return_needs_reason"))
    if data.decision == "reject" and not (data.reasons or data.comment):
        problems.append(Problem.of("comment", "err_reject_needs_reason"))
    if problems:
        raise InvalidInput(problems, "decision")
    return data


def decide(ctx: AppContext, actor: Actor, task_id: int, raw: dict[str, Any], *, ip: str | None = None) -> str:
    """Record a decision on a task the actor holds; returns the case's new state."""
    data = parse_decision(ctx, raw)
    now = ctx.clock.now()
    service = CaseService(ctx)
    with ctx.engine.begin() as conn:
        task = _task(conn, task_id, lock=True)
        if task.status != CLAIMED or task.claimed_by != actor.username:
            raise (Forbidden.of("err_claim_before_deciding_by", id=task_id, status=task.status, user=task.claimed_by)
                   if task.claimed_by else Forbidden.of("err_claim_before_deciding", id=task_id, status=task.status))
        reason = why_not(conn, actor, task, group_ok=True)   # the claim settled the group (or the backup rule)
        if reason:
            raise Forbidden(reason)
        closed = conn.execute(TASKS.update().where(TASKS.c.id == task_id, TASKS.c.status == CLAIMED)
                              .values(status=DONE, decided_at=now, decision=data.decision)).rowcount
        if closed != 1:  # pragma: no cover - the row lock / BEGIN IMMEDIATE keeps this from happening
            raise Forbidden.of("err_task_changed", id=task_id)
        reasons = [r.model_dump() for r in data.reasons]
        signoff = None
        if data.decision == "approve":
            case = conn.execute(select(CASES.c.library, CASES.c.micro, CASES.c.current_version_no)
                                .where(CASES.c.id == task.case_id)).one()
            if level_of(ctx.policy, case, task.level).redaction_signoff:
                signoff = signoff_record(conn, ctx, task.case_id, case.current_version_no)
        conn.execute(ReviewDecision.__table__.insert(), {
            "redaction_signoff": signoff,
            "task_id": task.id, "case_id": task.case_id, "round": task.round, "level": task.level,
            "level_name": task.level_name, "reviewer": actor.username, "decision": data.decision,
            "scores": data.scores or None, "reasons": reasons or None, "comment": data.comment, "decided_at": now,
            "cycle_seconds": int((now - task.created_at).total_seconds()), "policy_version": ctx.policy.version_tag})
        text = "; ".join(f"{r['section']}: {r['text']}" for r in reasons) or data.comment
        return service.fire(actor, task.case_key, EVENTS[data.decision], reason=text, ip=ip, conn=conn,
                            details={"task": task.id, "level": task.level, "scores": data.scores or None,
                                     **({"redaction_signoff": signoff} if signoff else {})})

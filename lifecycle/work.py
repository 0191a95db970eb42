"""The life of a work item: open -> done or cancelled.

Closing records the decision, the actor and the reason in the audit log, in the same transaction as what the
decision does: an expiry evaluation closes with ``renew`` or ``retire`` and fires that transition; a
rectification closes with what was changed; a correction request closes with the answer, which goes to the
requester. Who may close: the named assignee, or anyone holding the assignee role when no person is named.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor
from lifecycle.models import Case
from lifecycle.service import CaseService
from lifecycle.worklist import WorkItem
from notifications.audience import case_ref
from notifications.outbox import enqueue

WORK = WorkItem.__table__
CASES = Case.__table__
OPEN, DONE, CANCELLED = "open", "done", "cancelled"
LIVE = (OPEN,)
#: Per kind, the decisions that close an item and the lifecycle event each fires (None: no transition).
#: Every kind may also be cancelled (closed without acting), with a reason.
DECISIONS: dict[str, dict[str, str | None]] = {
    "evaluation": {"renew": "renew", "retire": "retire"},
    "rectification": {"rectified": None},
    "correction": {"answered": None},
    "health_retire": {"retire": "retire", "keep": None},
    "health_update": {"updated": None},
    "health_restructure": {"restructured": None},
    "micro_not_live": {"done": None},
    "stale_recheck": {"keep": None, "start_update": "start_update", "retire": "retire"},
}
CANCEL = "cancel"


def decisions_for(kind: str) -> list[str]:
    """The decisions an item of ``kind`` may close with (the last one cancels)."""
    return [*DECISIONS.get(kind, {"done": None}), CANCEL]


def may_work_on(actor: Actor, item: Any) -> bool:
    if item.assignee:
        return actor.username == item.assignee
    return item.assignee_role is not None and actor.role == item.assignee_role


def _item(conn: Connection, item_id: int) -> Any:
    row = conn.execute(select(WORK).where(WORK.c.id == item_id)).one_or_none()
    if row is None:
        raise NotFound.of("err_no_work_item", id=item_id)
    return row


def close_work_item(ctx: AppContext, actor: Actor, item_id: int, decision: str, reason: str, *,
                    ip: str | None = None) -> str:
    """Close an open item with ``decision``; returns the item's new status. Refusals change nothing."""
    reason = (reason or "").strip()
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        item = _item(conn, item_id)
        if not actor.is_system and not may_work_on(actor, item):
            who = item.assignee or f"role '{item.assignee_role}'"
            raise Forbidden.of("err_work_item_for", id=item_id, who=who)
        allowed = decisions_for(item.kind)
        problems = []
        if decision not in allowed:
            problems.append(Problem.of("decision", "err_one_of_got", allowed=list(allowed), value=decision))
        if not reason:
            problems.append(Problem.of("reason", "err_close_reason_required"))
        elif len(reason) > 2000:
            problems.append(Problem.of("reason", "err_at_most_chars", max=2000))
        if problems:
            raise InvalidInput(problems, "closing")
        if item.status not in LIVE:
            raise Forbidden.of("err_work_item_already", id=item_id, status=item.status)
        status = CANCELLED if decision == CANCEL else DONE
        won = conn.execute(WORK.update().where(WORK.c.id == item_id, WORK.c.status.in_(LIVE))
                           .values(status=status, closed_at=now, closed_by=actor.username, decision=decision,
                                   outcome=reason)).rowcount
        if won != 1:  # pragma: no cover - a concurrent closer; the loser learns it
            raise Forbidden.of("err_work_item_closed_first", id=item_id)
        case = conn.execute(select(CASES).where(CASES.c.id == item.case_id)).one_or_none() if item.case_id else None
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action=f"work_item.{status}",
                     subject_type="work_item", subject_id=str(item_id), ip=ip,
                     before={"status": item.status}, after={"status": status, "decision": decision},
                     details={"kind": item.kind, "case": case.key if case else None, "reason": reason})
        event = DECISIONS.get(item.kind, {}).get(decision)
        if event and case is not None:
            CaseService(ctx).fire(actor, case.key, event, reason=reason, ip=ip, conn=conn,
                                  details={"work_item": item_id})
        requester = (item.details or {}).get("requester")
        if item.kind == "correction" and requester and case is not None:
            enqueue(conn, kind="correction_answer", subject_id=case.key, recipient=requester,
                    period=f"work-{item_id}", now=now,
                    payload={"case": case_ref(case), "answer": reason, "decision": decision,
                             "by": actor.username})
    return status

"""Access requests: an internal-level case of another department becomes visible only after a department
head of the case's department approves; the request has its own SLA (working days) and notifications."""

from __future__ import annotations


from sqlalchemy import select, update

from access.grants import APPROVED, DENIED, PENDING, TABLE
from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem, Reason
from casebook.core.users import Actor, display_names
from lifecycle.bounds import text_problem
from lifecycle.models import Case
from notifications.audience import case_ref, users_with_role
from notifications.outbox import enqueue


def may_request(ctx: AppContext, actor: Actor, case: object) -> str:
    """'' when the actor may ask for access to this case, else the rule that stops it."""
    sp = ctx.policy.doc.security
    classification = getattr(case, "classification")
    if classification not in sp.access_request_classifications:
        return Reason("err_not_requestable", classification=classification)
    if ctx.policy.clearance_rank(actor.clearance) < ctx.policy.classification_rank(classification):
        return Reason("err_clearance_below", clearance=actor.clearance, classification=classification)
    return ""


def requestable(ctx: AppContext, actor: Actor, key: str) -> bool:
    """Whether to offer ``actor`` an access request for the case at all (nobody is offered one policy would
    refuse)."""
    with ctx.engine.connect() as conn:
        case = conn.execute(select(Case.__table__).where(Case.__table__.c.key == key)).first()
    return case is not None and not may_request(ctx, actor, case)


def request_access(ctx: AppContext, actor: Actor, key: str, reason: str, *, ip: str | None = None) -> int:

    if not reason.strip():
        raise InvalidInput([Problem.of("reason", "err_required")], "access request")
    if problem := text_problem(ctx.policy.doc.limits, "reason", reason):
        raise InvalidInput([problem], "access request")
    now = ctx.clock.now()
    sp = ctx.policy.doc.security
    with ctx.engine.begin() as conn:
        case = conn.execute(select(Case.__table__).where(Case.__table__.c.key == key)).first()
        if case is None:
            raise NotFound.of("err_no_case", case=key)
        why = may_request(ctx, actor, case)
        if why:
            raise Forbidden(why)
        existing = conn.execute(select(TABLE.c.id).where(TABLE.c.case_id == case.id, TABLE.c.requester ==
                                                         actor.username, TABLE.c.status.in_([PENDING, APPROVED]))).first()
        if existing:
            return int(existing.id)
        due = ctx.calendar.add_workdays(now, sp.access_request_working_days)
        rid = conn.execute(TABLE.insert().returning(TABLE.c.id), {
            "case_id": case.id, "case_key": key, "requester": actor.username, "reason": reason.strip(),
            "status": PENDING, "created_at": now, "due_at": due}).scalar_one()
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action="access.request", subject_type="case",
                     subject_id=key, ip=ip, details={"request": rid})
        for user in users_with_role(conn, ctx.policy, sp.access_request_approver_role, case.department):
            enqueue(conn, kind="access_request", subject_id=f"access-{rid}", recipient=user, period="new", now=now,
                    payload={"case": case_ref(case, conn), "requester": actor.username,
                             "requester_name": display_names(conn, [actor.username]).get(actor.username),
                             "due": due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M")}, digestible=False)
    return int(rid)


def decide_access(ctx: AppContext, actor: Actor, request_id: int, approve: bool, *, ip: str | None = None) -> str:

    now = ctx.clock.now()
    sp = ctx.policy.doc.security
    with ctx.engine.begin() as conn:
        req = conn.execute(select(TABLE).where(TABLE.c.id == request_id)).first()
        if req is None:
            raise NotFound.of("err_no_access_request", id=request_id)
        department = conn.execute(select(Case.__table__.c.department)
                                  .where(Case.__table__.c.id == req.case_id)).scalar_one()
        if actor.role != sp.access_request_approver_role or actor.department != department:
            raise Forbidden.of("err_only_approver_decides", role=sp.access_request_approver_role, department=department)
        if req.status != PENDING:
            raise Forbidden.of("err_request_already", id=request_id, status=req.status)
        status = APPROVED if approve else DENIED
        conn.execute(update(TABLE).where(TABLE.c.id == request_id).values(status=status, decided_by=actor.username,
                                                                           decided_at=now))
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action=f"access.{status}", subject_type="case",
                     subject_id=req.case_key, ip=ip, details={"request": request_id, "requester": req.requester})
        case = conn.execute(select(Case.__table__).where(Case.__table__.c.id == req.case_id)).one()
        enqueue(conn, kind="access_decision", subject_id=f"access-{request_id}", recipient=req.requester,
                period=status, now=now, digestible=False,
                payload={"case": case_ref(case), "approved": approve, "by": actor.username})
    return status


def remind_overdue(ctx: AppContext) -> int:
    """Pending requests past their SLA: the approvers are reminded and operations is told (once each)."""

    now = ctx.clock.now()
    sp = ctx.policy.doc.security
    sent = 0
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(TABLE, Case.__table__).join(Case.__table__, Case.__table__.c.id == TABLE.c.case_id)
                            .where(TABLE.c.status == PENDING, TABLE.c.due_at <= now).order_by(TABLE.c.id)).all()
        for row in rows:
            people = users_with_role(conn, ctx.policy, sp.access_request_approver_role, row.department) + \
                users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role)
            payload = {"case": case_ref(row), "requester": row.requester,
                       "requester_name": display_names(conn, [row.requester]).get(row.requester),
                       "due": row.due_at.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M")}
            for user in dict.fromkeys(people):
                sent += enqueue(conn, kind="access_request", subject_id=f"access-{row.id}", recipient=user,
                                period="overdue", payload=payload, now=now, digestible=False)
    return sent

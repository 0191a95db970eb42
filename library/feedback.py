"""What readers give back on a published case: ratings (one per reader) and correction requests (audited, the
owner notified, the answer due per policy). Page, API and CLI all call these."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import upsert
from casebook.core.errors import InvalidInput, Problem
from casebook.core.users import Actor, display_names
from library.index import refresh_ratings
from lifecycle.models import Case
from lifecycle.bounds import text_problem
from lifecycle.jobs import add_work_item
from lifecycle.service import CaseService
from lifecycle.worklist import Rating
from notifications.audience import case_ref, username_of
from notifications.outbox import enqueue

RATINGS = Rating.__table__
CASES = Case.__table__


def rate(ctx: AppContext, actor: Actor, key: str, stars: int, comment: str | None = None) -> None:
    """A reader's rating of a published case (one per reader; a new rating replaces the old)."""
    scale = ctx.policy.doc.ratings.scale_max
    if not 1 <= stars <= scale:
        raise InvalidInput([Problem.of("stars", "err_between", low=1, high=scale)], "rating")
    if comment is not None and (problem := text_problem(ctx.policy.doc.limits, "comment", comment)):
        raise InvalidInput([problem], "rating")
    view = CaseService(ctx).view(actor, key)
    if view.published_version_no is None:
        raise InvalidInput([Problem.of("case", "err_only_published_rated")], "rating")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        upsert(conn, RATINGS, {"case_id": view.case_id, "username": actor.username, "stars": stars,
                               "comment": comment, "rated_at": now}, ["case_id", "username"])
        refresh_ratings(conn, [view.case_id])


def request_correction(ctx: AppContext, actor: Actor, key: str, text: str, *, ip: str | None = None) -> None:
    """A reader's correction request on a case they may read: audited, and the owner is notified."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput([Problem.of("text", "err_not_empty")], "correction request")
    if problem := text_problem(ctx.policy.doc.limits, "text", text):
        raise InvalidInput([problem], "correction request")
    CaseService(ctx).view(actor, key)   # the read rule: only a reader of the case may ask
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        case = conn.execute(select(CASES).where(CASES.c.key == key)).one()
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action="case.correction_request",
                     subject_type="case", subject_id=key, ip=ip, details={"text": text})
        owner = username_of(conn, case.owner_id)
        due = now + timedelta(hours=ctx.policy.doc.ratings.correction_answer_hours)
        if owner:
            # the answer is owed by the owner: a work item in the owner's inbox, due per policy
            add_work_item(conn, ctx, key=f"correction|{key}|{actor.username}|{now.isoformat(timespec='seconds')}",
                          kind="correction", case_id=case.id, role=None, assignee=owner, due_at=due,
                          reason=text, details={"requester": actor.username, "text": text})
            enqueue(conn, kind="correction_request", subject_id=key, recipient=owner,
                    period=now.isoformat(timespec="seconds"), now=now,
                    payload={"case": case_ref(case, conn), "requester": actor.username, "text": text,
                             "requester_name": display_names(conn, [actor.username]).get(actor.username),
                             "due": due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M")})

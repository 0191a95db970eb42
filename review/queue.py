"""The reviewer task queue: list what a user may work on, claim exclusively, release, reassign.

A claim is a compare-and-set (``UPDATE … WHERE status = 'open'``), so when many reviewers claim one task
exactly one wins on any backend; "give me the next task" uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import skip_locked
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor, User
from lifecycle.models import Case
from redaction.stored import stored_title
from redaction.tiers import audience_for
from review.duties import eligible_clause, why_not
from review.models import CLAIMED, OPEN, ReviewTask
from review.chain import level_of
from review.due import classify, due_review_work
from review.sla import OVERDUE, sla_status

TASKS = ReviewTask.__table__
CASES = Case.__table__


@dataclass(frozen=True)
class QueueItem:
    task_id: int
    case_key: str
    title: str
    level: int
    level_name: str
    status: str
    claimed_by: str | None
    due_at: datetime
    sla: str

    def as_json(self, tz: Any) -> dict[str, Any]:
        return {"task": self.task_id, "case": self.case_key, "title": self.title, "level": self.level,
                "level_name": self.level_name, "status": self.status, "claimed_by": self.claimed_by,
                "due_at": self.due_at.astimezone(tz).isoformat(), "sla": self.sla}


def list_queue(ctx: AppContext, actor: Actor, *, limit: int = 50) -> list[QueueItem]:
    """Tasks the actor holds and open tasks the actor may claim, by due time, with SLA status.

    Two queries, each walking its own index in due order (an OR of the two would defeat both).
    """
    now = ctx.clock.now()
    columns = (TASKS.c.id, TASKS.c.case_key, CASES.c.title, TASKS.c.level, TASKS.c.level_name, TASKS.c.status,
               TASKS.c.claimed_by, TASKS.c.due_at)
    mine = (select(*columns).join(CASES, CASES.c.id == TASKS.c.case_id)
            .where(TASKS.c.claimed_by == actor.username, TASKS.c.status == CLAIMED)
            .order_by(TASKS.c.due_at, TASKS.c.id).limit(limit))
    claimable = (select(*columns).join(CASES, CASES.c.id == TASKS.c.case_id)
                 .where(TASKS.c.status == OPEN, eligible_clause(actor))
                 .order_by(TASKS.c.due_at, TASKS.c.id).limit(limit))
    with ctx.engine.connect() as conn:
        rows = sorted([*conn.execute(mine), *conn.execute(claimable)], key=lambda r: (r.due_at, r.id))[:limit]
    due_soon = ctx.policy.doc.review.due_soon_working_days
    return [QueueItem(r.id, r.case_key, r.title, r.level, r.level_name, r.status, r.claimed_by, r.due_at,
                      sla_status(ctx.calendar, r.due_at, now, due_soon)) for r in rows]


def shown_queue(ctx: AppContext, actor: Actor, *, limit: int = 50) -> list[QueueItem]:
    """``list_queue`` with every title rendered at the actor's tier: what pages, API and CLI show.

    (``list_queue`` itself carries stored titles, for callers that show none, such as the digest lines.)
    """
    items = list_queue(ctx, actor, limit=limit)
    if not items:
        return items
    with ctx.engine.connect() as conn:
        facts = {r.key: r for r in conn.execute(
            select(CASES.c.id, CASES.c.key, CASES.c.classification, CASES.c.department, CASES.c.owner_id,
                   CASES.c.author_id, CASES.c.current_version_no)
            .where(CASES.c.key.in_({i.case_key for i in items})))}
        out = []
        for item in items:  # the version in review (task lists are for its reviewers), from its stored findings
            c = facts[item.case_key]
            audience = audience_for(ctx.policy, actor, classification=c.classification, department=c.department,
                                    is_author=actor.user_id is not None and actor.user_id in (c.owner_id, c.author_id))
            out.append(dataclasses.replace(item, title=stored_title(conn, ctx.policy, c.id, c.current_version_no,
                                                                    item.title, audience)))
    return out


def _task(conn: Connection, task_id: int, *, lock: bool = False) -> Any:
    stmt = select(TASKS).where(TASKS.c.id == task_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        raise NotFound.of("err_no_task", id=task_id)
    return row


def _record(ctx: AppContext, conn: Connection, actor: Actor, action: str, task: Any, after: dict[str, Any]) -> None:
    audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action=action,
                 subject_type="review_task", subject_id=str(task.id),
                 before={"status": task.status, "claimed_by": task.claimed_by}, after=after,
                 details={"case": task.case_key, "level": task.level})


def backup_for(ctx: AppContext, conn: Connection, actor: Actor, task: Any) -> bool:
    """Whether ``actor`` is the level's backup and the task is overdue (past the policy's first escalation step):
    then the backup may take it over, even from a reviewer who claimed it and let it lapse."""
    case = conn.execute(select(CASES.c.library, CASES.c.micro).where(CASES.c.id == task.case_id)).one()
    item = classify(ctx.policy, ctx.calendar, task, case, ctx.clock.now())
    if item is None or item.status != OVERDUE:
        return False
    backup = level_of(ctx.policy, case, task.level).backup_role
    scoped = ctx.policy.role(backup).department_scoped and task.candidate_department is not None
    return actor.role == backup and (not scoped or actor.department == task.candidate_department)


def claim(ctx: AppContext, actor: Actor, task_id: int) -> None:
    """Take an open task; exactly one of many simultaneous claimers wins. The level's backup may take an
    overdue task, open or claimed (audited as a takeover)."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        task = _task(conn, task_id, lock=True)
        backup = task.status in (OPEN, CLAIMED) and task.claimed_by != actor.username \
            and bool(why_not(conn, actor, task)) and backup_for(ctx, conn, actor, task)
        if task.status != OPEN and not backup:
            if task.status == CLAIMED:
                raise Forbidden.of("err_task_already_by", id=task_id, status=task.status, user=task.claimed_by)
            raise Forbidden.of("err_task_already", id=task_id, status=task.status)
        reason = why_not(conn, actor, task, group_ok=backup)
        if reason:
            raise Forbidden(reason)
        won = conn.execute(TASKS.update().where(TASKS.c.id == task_id, TASKS.c.status == task.status)
                           .values(status=CLAIMED, claimed_by=actor.username, claimed_at=now)).rowcount == 1
        if not won:
            raise Forbidden.of("err_task_claimed_first", id=task_id)
        _record(ctx, conn, actor, "review.claim_backup" if backup else "review.claim", task,
                {"status": CLAIMED, "claimed_by": actor.username})


def overdue_for_backup(ctx: AppContext, actor: Actor) -> list[QueueItem]:
    """Overdue tasks the actor may take over as the level's backup (shown in the backup's inbox)."""
    out = []
    with ctx.engine.connect() as conn:
        for item in due_review_work(conn, ctx.policy, ctx.calendar, ctx.clock.now()):
            if item.status != OVERDUE or item.claimed_by == actor.username:
                continue
            task = _task(conn, item.task_id)
            if not backup_for(ctx, conn, actor, task) or not why_not(conn, actor, task) \
                    or why_not(conn, actor, task, group_ok=True):
                continue
            title = conn.execute(select(CASES.c.title).where(CASES.c.id == task.case_id)).scalar_one()
            out.append(QueueItem(task.id, task.case_key, title, task.level, task.level_name, task.status,
                                 task.claimed_by, task.due_at, OVERDUE))
    return out


def claim_next(ctx: AppContext, actor: Actor) -> int | None:
    """Claim the most urgent open task the actor may work on; None when there is none."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        stmt = (select(TASKS).where(TASKS.c.status == OPEN, eligible_clause(actor))
                .order_by(TASKS.c.due_at, TASKS.c.id).limit(1))
        task = conn.execute(skip_locked(conn, stmt, of=TASKS)).one_or_none()
        if task is None:
            return None
        won = conn.execute(TASKS.update().where(TASKS.c.id == task.id, TASKS.c.status == OPEN)
                           .values(status=CLAIMED, claimed_by=actor.username, claimed_at=now)).rowcount == 1
        if not won:  # pragma: no cover - SKIP LOCKED / BEGIN IMMEDIATE make this unreachable
            return None
        _record(ctx, conn, actor, "review.claim", task, {"status": CLAIMED, "claimed_by": actor.username})
        return int(task.id)


def release(ctx: AppContext, actor: Actor, task_id: int) -> None:
    """Give a claimed task back to its candidate group."""
    with ctx.engine.begin() as conn:
        task = _task(conn, task_id, lock=True)
        if task.status != CLAIMED or task.claimed_by != actor.username:
            raise Forbidden.of("err_task_not_claimed_by", id=task_id, user=actor.username)
        conn.execute(TASKS.update().where(TASKS.c.id == task_id)
                     .values(status=OPEN, claimed_by=None, claimed_at=None))
        _record(ctx, conn, actor, "review.release", task, {"status": OPEN, "claimed_by": None})


def reassign(ctx: AppContext, actor: Actor, task_id: int, to_username: str) -> None:
    """Operations hands an open or claimed task to a named eligible reviewer."""
    if not actor.is_system and not ctx.policy.may(actor.role, "review.reassign", own=False):
        raise Forbidden.of("err_lacks_permission", role=actor.role, permission="review.reassign")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        task = _task(conn, task_id, lock=True)
        if task.status not in (OPEN, CLAIMED):
            raise Forbidden.of("err_task_not_reassignable", id=task_id, status=task.status)
        user = conn.execute(select(User.__table__).where(User.__table__.c.username == to_username)).one_or_none()
        if user is None or not user.active:
            raise InvalidInput([Problem.of("--to", "err_not_active_user", user=to_username)], "reassignment")
        target = Actor.of(user)
        reason = why_not(conn, target, task)
        if reason and backup_for(ctx, conn, target, task):   # an overdue task may go to the level's backup
            reason = why_not(conn, target, task, group_ok=True)
        if reason:
            raise Forbidden.of("err_cannot_reassign", user=to_username, reason=reason)
        conn.execute(TASKS.update().where(TASKS.c.id == task_id)
                     .values(status=CLAIMED, claimed_by=to_username, claimed_at=now))
        _record(ctx, conn, actor, "review.reassign", task, {"status": CLAIMED, "claimed_by": to_username})

"""One inbox per person: everything a person owes, of every kind, by due time.

Review tasks to claim or decide, cases to submit (owed or overdue) or resubmit, updates due on stale cases,
work items (expiry evaluations, rectifications, correction answers, health-check and quarterly tasks), access
requests to approve, learning tasks to study and confirm, and the case of the day for those who opted in. The home page, ``casebook tasks`` and ``GET /api/v1/me/tasks`` all show this list.
Titles are rendered at the person's tier, like every other output of case text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from access.accounts import frozen_accounts
from access.grants import PENDING
from access.grants import TABLE as ACCESS
from casebook.core.context import AppContext
from casebook.core.reasons import render as render_reason
from casebook.core.users import Actor, display_names
from library.learning import my_learning, todays_case
from lifecycle import states as S
from lifecycle.models import Case
from lifecycle.work import LIVE as WORK_LIVE
from lifecycle.work import WORK, decisions_for
from redaction.render import render_text
from redaction.tiers import audience_for
from review import queue

CASES = Case.__table__
#: Inbox kinds whose detail is a reason the system wrote (a work item's or a frozen account's).
REASONED = ("evaluation", "rectification", "micro_not_live", "stale_recheck", "health_retire", "health_update",
            "health_restructure", "frozen_account")
#: Cases their owner or author owes something on, and what (the inbox kind).
OWED = {S.DRAFT: "submission", S.RETURNED: "resubmission", S.UPDATE_DUE: "update", S.UPDATING: "update"}


@dataclass(frozen=True)
class InboxItem:
    """One thing a person owes. ``id`` is unique across kinds (``review-7``, ``work-3``, ``access-2``,
    ``case-CB-000001``); ``actions`` are what the person may do from the inbox."""

    id: str
    kind: str
    case: str | None
    title: str
    due: datetime | None
    status: str
    detail: str = ""
    actions: list[str] = field(default_factory=list)
    ref: int | None = None

    def as_json(self, tz: Any, locale: str | None = None) -> dict[str, Any]:
        """The item for programs; with ``locale``, a system-written reason (``detail``, stored coded) is also
        given in words as ``reason``."""
        out = {"id": self.id, "kind": self.kind, "case": self.case, "title": self.title,
               "due": self.due.astimezone(tz).isoformat() if self.due else None, "status": self.status,
               "detail": self.detail, "actions": self.actions}
        if locale and self.kind in REASONED:
            out["reason"] = render_reason(self.detail, locale)
        return out


def _title(ctx: AppContext, actor: Actor, case: Any) -> str:
    if case is None or case.key is None:
        return ""
    audience = audience_for(ctx.policy, actor, classification=case.classification, department=case.department,
                            is_author=actor.user_id in (case.owner_id, case.author_id))
    return render_text(ctx.policy, case.title, audience)


def _timed(due: datetime | None, now: datetime, status: str = "open") -> str:
    return "overdue" if due is not None and due < now else status


def inbox(ctx: AppContext, actor: Actor, *, limit: int = 200) -> list[InboxItem]:
    """Everything ``actor`` owes now, soonest due first (items without a due time last)."""
    now = ctx.clock.now()
    items: list[InboxItem] = []
    for task in queue.list_queue(ctx, actor, limit=limit):
        claimed = task.status == queue.CLAIMED
        items.append(InboxItem(f"review-{task.task_id}", "review", task.case_key, "", task.due_at,
                               "overdue" if task.sla == "overdue" else task.status,
                               f"L{task.level} {task.level_name}",
                               ["decide", "release"] if claimed else ["claim"], task.task_id))
    for task in queue.overdue_for_backup(ctx, actor):
        items.append(InboxItem(f"review-{task.task_id}", "review", task.case_key, "", task.due_at, "overdue",
                               f"L{task.level} {task.level_name}", ["claim"], task.task_id))
    with ctx.engine.connect() as conn:
        cases: dict[int, Any] = {}
        if actor.user_id is not None:
            owned = conn.execute(select(CASES).where(
                CASES.c.state.in_(list(OWED)),
                or_(CASES.c.owner_id == actor.user_id, CASES.c.author_id == actor.user_id))
                .order_by(CASES.c.id).limit(limit)).all()
            for c in owned:
                due = c.submission_due if c.state in (S.DRAFT, S.RETURNED) else c.expires_at
                items.append(InboxItem(f"case-{c.key}", OWED[c.state], c.key, _title(ctx, actor, c), due,
                                       _timed(due, now, "owed"), c.state, ["open"]))
        mine = or_(WORK.c.assignee == actor.username,
                   and_(WORK.c.assignee.is_(None), WORK.c.assignee_role == actor.role))
        work = conn.execute(select(WORK).where(WORK.c.status.in_(WORK_LIVE), mine)
                            .order_by(WORK.c.due_at, WORK.c.id).limit(limit)).all()
        ids = {w.case_id for w in work if w.case_id}
        if ids:
            cases = {c.id: c for c in conn.execute(select(CASES).where(CASES.c.id.in_(ids)))}
        for w in work:
            case = cases.get(w.case_id)
            items.append(InboxItem(f"work-{w.id}", w.kind, case.key if case else None, _title(ctx, actor, case),
                                   w.due_at, _timed(w.due_at, now), w.reason, decisions_for(w.kind), w.id))
        approver = ctx.policy.doc.security.access_request_approver_role
        if actor.role == approver:
            stmt = (select(ACCESS, CASES.c.title, CASES.c.classification, CASES.c.department, CASES.c.owner_id,
                           CASES.c.author_id, CASES.c.key)
                    .join(CASES, CASES.c.id == ACCESS.c.case_id).where(ACCESS.c.status == PENDING)
                    .order_by(ACCESS.c.due_at, ACCESS.c.id).limit(limit))
            if ctx.policy.role(approver).department_scoped:
                stmt = stmt.where(CASES.c.department == actor.department)
            asked = conn.execute(stmt).all()
            names = display_names(conn, (r.requester for r in asked))      # people by name, not sign-in name
            for r in asked:
                items.append(InboxItem(f"access-{r.id}", "access_request", r.case_key, _title(ctx, actor, r),
                                       r.due_at, _timed(r.due_at, now, PENDING),
                                       f"{names.get(r.requester, r.requester)}: {r.reason}",
                                       ["approve", "deny"], r.id))
    for task in my_learning(ctx, actor):
        if task.status != "done":
            items.append(InboxItem(f"learning-{task.id}", "learning", task.case, task.title, task.due, task.status,
                                   f"{task.position}", ["open", "confirm"], task.id))
    today = todays_case(ctx, actor)
    if today is not None:
        items.append(InboxItem(f"today-{today.key}", "case_of_day", today.key, today.title, None, "today",
                               today.day, ["open"]))
    if actor.role == ctx.policy.doc.operations_role:
        for username, why in frozen_accounts(ctx):
            items.append(InboxItem(f"account-{username}", "frozen_account", None, username, None, "frozen", why,
                                   ["unfreeze"]))
    titles = {i.case: i.title for i in items if i.title}
    items = [i if i.title or not i.case else _with_title(ctx, actor, i, titles) for i in items]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(items, key=lambda i: (i.due or far, i.id))[:limit]


def _with_title(ctx: AppContext, actor: Actor, item: InboxItem, known: dict[str | None, str]) -> InboxItem:
    from dataclasses import replace

    if item.case in known:
        return replace(item, title=known[item.case])
    with ctx.engine.connect() as conn:
        case = conn.execute(select(CASES).where(CASES.c.key == item.case)).one_or_none()
    return replace(item, title=_title(ctx, actor, case))

""""My cases": the cases a person authored or owns, each with its state, the date that matters now and the next
step (the events the person may fire, from the same allowed-events logic the CLI and API use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle import states as S
from lifecycle.models import Case
from lifecycle.service import CaseService

IRREVERSIBLE = S.IRREVERSIBLE
REASON_REQUIRED = S.REASON_REQUIRED


@dataclass(frozen=True)
class OwnedCase:
    key: str
    title: str
    state: str
    due: datetime | None
    next_steps: list[str]
    overdue: bool


def due_of(case: Case) -> datetime | None:
    """The date that matters in the case's state: submission while a draft, validity end while live."""
    if case.state in (S.DRAFT, S.RETURNED):
        return case.submission_due
    if case.state in (S.PUBLISHED, S.UPDATE_DUE, S.UPDATING):
        return case.expires_at
    return None


def my_cases(ctx: AppContext, actor: Actor, *, limit: int = 200) -> list[OwnedCase]:
    if actor.user_id is None:
        return []
    now = ctx.clock.now()
    svc = CaseService(ctx)
    with ctx.sessions() as session:
        rows = list(session.scalars(select(Case).where(or_(Case.owner_id == actor.user_id,
                                                             Case.author_id == actor.user_id))
                                    .order_by(Case.updated_at.desc(), Case.id.desc()).limit(limit)))
        out = []
        for c in rows:
            due = due_of(c)
            steps = svc._allowed(session.connection(), c, actor)
            if c.state in S.EDITABLE_STATES:
                steps = ["edit", *steps]
            out.append(OwnedCase(c.key or "", c.title, c.state, due, steps, bool(due and due < now)))
        return out

"""Following a case: a reader asks to hear about it (its takedown, for one). Page, API and CLI call these;
following needs the read rule a view needs, so nobody follows a case they may not read."""

from __future__ import annotations

from sqlalchemy import delete, select

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import insert_if_absent, reads
from casebook.core.users import Actor
from lifecycle.service import CaseService
from notifications.models import CaseFollow

FOLLOWS = CaseFollow.__table__


def follow(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None) -> bool:
    """Follow a case the actor may read; True if new (following twice changes nothing)."""
    view = CaseService(ctx).view(actor, key)   # the read rule (Forbidden / NotFound otherwise)
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        new = insert_if_absent(conn, FOLLOWS, {"case_id": view.case_id, "username": actor.username,
                                               "followed_at": now}, ["case_id", "username"])
        if new:
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="case.follow", subject_type="case",
                         subject_id=key, ip=ip)
    return new


def unfollow(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None) -> bool:
    """Stop following; True if the actor followed the case. Allowed whatever the case's state is now."""
    from lifecycle.models import Case

    cases = Case.__table__
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.key == key)).scalar_one_or_none()
        if case_id is None:
            return False
        gone = conn.execute(delete(FOLLOWS).where(FOLLOWS.c.case_id == case_id,
                                                  FOLLOWS.c.username == actor.username)).rowcount
        if gone:
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="case.unfollow",
                         subject_type="case", subject_id=key, ip=ip)
    return bool(gone)


@reads
def is_following(ctx: AppContext, actor: Actor, key: str) -> bool:
    """Whether the actor follows the case (the page shows follow or unfollow)."""
    from lifecycle.models import Case

    cases = Case.__table__
    with ctx.engine.connect() as conn:
        return conn.execute(select(FOLLOWS.c.id).join(cases, cases.c.id == FOLLOWS.c.case_id)
                            .where(cases.c.key == key, FOLLOWS.c.username == actor.username)).first() is not None


def followed(ctx: AppContext, actor: Actor) -> list[str]:
    """The keys of the cases the actor follows, oldest follow first."""
    from lifecycle.models import Case

    cases = Case.__table__
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(cases.c.key).join(FOLLOWS, FOLLOWS.c.case_id == cases.c.id)
                                 .where(FOLLOWS.c.username == actor.username)
                                 .order_by(FOLLOWS.c.followed_at, FOLLOWS.c.id)).scalars())

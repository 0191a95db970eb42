"""Takedown notices: a withdrawal tells everyone who viewed, rated or downloaded the case within the policy's
``notifications.takedown_window_days``, and everyone following it, through the outbox in the withdrawal's own
transaction (kind ``case_withdrawn``, one row per reader, keyed so a rerun adds nothing). Role chat groups that
policy names post it too.

What a notice shows of the case is what its reader could read just before the takedown: the case reference
carries the facts of the row *before* the change (state, published), so delivery renders the title from the
stored findings at the reader's tier exactly as for a live case, and a reader who could not read it (then or
since) sees the key only. The body, the reason and anything else of the withdrawn content are never in it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from casebook.core.access_log import AccessEntry
from casebook.core.users import User
from lifecycle import states as S
from lifecycle.hooks import TransitionEvent
from lifecycle.models import Case
from lifecycle.worklist import Rating
from notifications.announce import announce
from notifications.audience import case_ref
from notifications.models import CaseFollow
from notifications.outbox import Notice, enqueue_many

ACCESS = AccessEntry.__table__
RATINGS = Rating.__table__
FOLLOWS = CaseFollow.__table__
CASES = Case.__table__
USERS = User.__table__
KIND = "case_withdrawn"


def readers(conn: Connection, case_id: int, key: str, since: Any, queued: list[dict[str, Any]] = ()) -> set[str]:
    """Who viewed, downloaded (the access log, and ``queued``: entries this process has not written yet) or
    rated the case since ``since``, or follows it: active users only."""
    names = set(conn.execute(select(ACCESS.c.actor).where(ACCESS.c.case_key == key, ACCESS.c.at >= since)
                             .distinct()).scalars())
    names |= {e["actor"] for e in queued if e["at"] >= since}
    names |= set(conn.execute(select(RATINGS.c.username).where(RATINGS.c.case_id == case_id,
                                                               RATINGS.c.rated_at >= since)).scalars())
    names |= set(conn.execute(select(FOLLOWS.c.username).where(FOLLOWS.c.case_id == case_id)).scalars())
    if not names:
        return set()
    return set(conn.execute(select(USERS.c.username).where(USERS.c.username.in_(names),
                                                           USERS.c.active.is_(True))).scalars())


def as_it_was(conn: Connection, event: TransitionEvent) -> dict[str, Any]:
    """The case reference with the read facts of the row before the withdrawal (title from stored findings)."""
    row = conn.execute(select(CASES).where(CASES.c.id == event.case.id)).one()
    ref = case_ref(row, conn)
    return ref | {"state": event.source, "published": event.case.published_version_no is not None,
                  "withdrawn": event.case.withdrawn_at is not None}


def on_transition(event: TransitionEvent) -> None:
    """The listener: on a withdrawal, queue the notices in the transition's transaction."""
    if event.dest != S.WITHDRAWN:
        return
    ctx = event.service.ctx
    conn, key = event.conn, event.case.key
    since = event.now - timedelta(days=ctx.policy.doc.notifications.takedown_window_days)
    # reads this process has queued and not written yet (no queue made when this process logged none)
    queued = ctx.access_log.queued(key) if "access_log" in vars(ctx) else []
    people = readers(conn, event.case.id, key, since, queued) - {event.actor.username}
    ref = as_it_was(conn, event)
    day = event.now.astimezone(ctx.clock.tz).date().isoformat()
    payload = {"case": ref, "withdrawn_on": day}
    period = "withdrawn"   # a case is withdrawn once: one notice per reader, ever
    notices = [Notice(KIND, key, user, period, payload, digestible=False) for user in sorted(people)]
    size = ctx.policy.doc.notifications.batch_size   # a much-read case: one multi-row INSERT per batch of readers
    for i in range(0, len(notices), size):
        enqueue_many(conn, notices[i:i + size], event.now)
    announce(conn, ctx.policy, ctx.settings, kind=KIND, subject_id=key, period=period, payload=payload,
             now=event.now)

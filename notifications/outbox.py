"""Writing notifications: one outbox row per (kind, subject, recipient, period), inserted in the caller's
transaction; a second insert of the same key is a no-op on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from casebook.core.db import insert_if_absent, insert_many_if_absent
from notifications.models import PENDING, OutboxMessage, Preference

TABLE = OutboxMessage.__table__
PREFERENCES = Preference.__table__
_MODE = select(PREFERENCES.c.mode).where(PREFERENCES.c.username == bindparam("username"))


def outbox_key(kind: str, subject_id: str, recipient: str, period: str) -> str:
    return f"{kind}|{subject_id}|{recipient}|{period}"


def enqueue(conn: Connection, *, kind: str, subject_id: str, recipient: str, period: str, payload: dict[str, Any],
            now: datetime, digestible: bool = True) -> bool:
    """Queue one notification; True if it is new. ``digestible`` messages wait for the daily digest when the
    recipient prefers digests; alerts and digests themselves never do."""
    pref = conn.execute(_MODE, {"username": recipient}).scalar_one_or_none()
    row = {"key": outbox_key(kind, subject_id, recipient, period), "kind": kind, "recipient": recipient,
           "subject_id": subject_id, "period": period, "payload": payload, "status": PENDING, "attempts": 0,
           "digest": bool(digestible and pref == "digest"), "next_attempt_at": now, "created_at": now}
    return insert_if_absent(conn, TABLE, row, ["key"])


@dataclass(frozen=True)
class Notice:
    """One notification to queue (``enqueue``'s arguments, for ``enqueue_many``)."""

    kind: str
    subject_id: str
    recipient: str
    period: str
    payload: dict[str, Any] = field(default_factory=dict)
    digestible: bool = True

    @property
    def key(self) -> str:
        return outbox_key(self.kind, self.subject_id, self.recipient, self.period)


def enqueue_many(conn: Connection, notices: Iterable[Notice], now: datetime) -> set[str]:
    """Queue many notifications in the caller's transaction with one preference read and one multi-row INSERT …
    ON CONFLICT DO NOTHING; the keys of those that are new (a notice already queued, or repeated, is not)."""
    unique = {n.key: n for n in notices}
    if not unique:
        return set()
    people = {n.recipient for n in unique.values()}
    prefs = dict(conn.execute(select(PREFERENCES.c.username, PREFERENCES.c.mode)
                              .where(PREFERENCES.c.username.in_(people))).all())
    rows = [{"key": key, "kind": n.kind, "recipient": n.recipient, "subject_id": n.subject_id, "period": n.period,
             "payload": n.payload, "status": PENDING, "attempts": 0,
             "digest": bool(n.digestible and prefs.get(n.recipient) == "digest"), "next_attempt_at": now,
             "created_at": now} for key, n in unique.items()]
    return set(insert_many_if_absent(conn, TABLE, rows, ["key"]))

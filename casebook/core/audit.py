"""Append-only, hash-chained audit log.

Each event carries the HMAC of its predecessor's hash and its own canonical content, so changing,
deleting or inserting a row out of band breaks the chain at that row. A one-row head (sequence and
last hash) is locked by every append, which serialises writers and lets ``verify`` notice a deleted tail.
"""

from __future__ import annotations

import hmac
import json
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from casebook.core.db import Base, Prepared, UTCDateTime, insert_many

GENESIS = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy_version: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id", "seq"),)


class AuditHead(Base):
    """The chain's tip: one row, locked by each append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


HASHED_FIELDS = ("seq", "at", "actor", "action", "subject_type", "subject_id", "ip", "before", "after", "details",
                 "policy_version", "prev_hash")


def _canonical(fields: dict[str, Any]) -> bytes:
    content = {name: fields.get(name) for name in HASHED_FIELDS}
    content["at"] = fields["at"].astimezone(timezone.utc).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def compute_hash(key: bytes, fields: dict[str, Any] | AuditEvent) -> str:
    """HMAC-SHA256 of an event's canonical content (a stored row or the mapping about to be stored)."""
    if isinstance(fields, AuditEvent):
        fields = {name: getattr(fields, name) for name in HASHED_FIELDS}
    return hmac.digest(key, _canonical(fields), "sha256").hex()  # one C call; the same as hmac.new(…).hexdigest()


@dataclass(frozen=True)
class AuditContext:
    """What every append needs besides the event itself."""

    key: bytes
    policy_version: str


_HEAD = AuditHead.__table__
_EVENTS = AuditEvent.__table__
# Built once so their compiled forms are cached: appends are on every transition's hot path.
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
_READ_HEAD_LOCKED = _READ_HEAD.with_for_update()
_INSERT_EVENT = Prepared(_EVENTS.insert())
_MOVE_HEAD = _HEAD.update().where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
_MOVE_HEAD_IF = Prepared(_MOVE_HEAD.where(_HEAD.c.seq == bindparam("old_seq"), _HEAD.c.hash == bindparam("old_hash")))

# The tip this process last wrote, per engine. Only a hint: the head is moved by compare-and-set on
# (seq, hash), so a stale hint (another writer, a rolled-back append) costs one extra read, never a fork.
_tips: "weakref.WeakKeyDictionary[Engine, tuple[int, str]]" = weakref.WeakKeyDictionary()


def record(db: Session | Connection, ctx: AuditContext, *, at: datetime, actor: str, action: str, subject_type: str,
           subject_id: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           details: dict[str, Any] | None = None, ip: str | None = None) -> dict[str, Any]:
    """Append one event inside the caller's transaction (so it commits or rolls back with the change).

    The head row is moved first (``_move_head``), so appends never fork.
    """
    conn = db.connection() if isinstance(db, Session) else db
    event: dict[str, Any] = {"at": at, "actor": actor, "action": action, "subject_type": subject_type,
                             "subject_id": subject_id, "ip": ip, "before": before, "after": after,
                             "details": details, "policy_version": ctx.policy_version}
    _move_head(conn, ctx, [event])
    _INSERT_EVENT.execute(conn, event)
    _tips[conn.engine] = (event["seq"], event["hash"])
    return event


def record_many(conn: Connection, ctx: AuditContext, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append several events (each given as ``record``'s keyword arguments) inside the caller's transaction, chained
    in the order given: the head is moved once and the events are written by one multi-row INSERT, so a batch of
    transitions costs one head update instead of one per event. The chain is the same as ``record`` one by one."""
    if not events:
        return []
    full = [{"at": e["at"], "actor": e["actor"], "action": e["action"], "subject_type": e["subject_type"],
             "subject_id": e["subject_id"], "ip": e.get("ip"), "before": e.get("before"), "after": e.get("after"),
             "details": e.get("details"), "policy_version": ctx.policy_version} for e in events]
    _move_head(conn, ctx, full)
    insert_many(conn, _EVENTS, full)
    _tips[conn.engine] = (full[-1]["seq"], full[-1]["hash"])
    return full


def _move_head(conn: Connection, ctx: AuditContext, events: list[dict[str, Any]]) -> None:
    """Link ``events`` after the chain's tip and move the head past them: by compare-and-set from this process's
    last tip, else after a locked read (FOR UPDATE on PostgreSQL; SQLite writers are serialised by BEGIN
    IMMEDIATE), so appends never fork."""
    tip = _tips.get(conn.engine)
    if tip is not None:
        _link_all(ctx, events, *tip)
        if _MOVE_HEAD_IF.execute(conn, {"new_seq": events[-1]["seq"], "new_hash": events[-1]["hash"],
                                        "old_seq": tip[0], "old_hash": tip[1]}) == 1:
            return
    head = conn.execute(_READ_HEAD_LOCKED if conn.dialect.name == "postgresql" else _READ_HEAD).one_or_none()
    if head is None:
        conn.execute(_HEAD.insert(), {"id": 1, "seq": 0, "hash": GENESIS})
        head_seq, head_hash = 0, GENESIS
    else:
        head_seq, head_hash = head.seq, head.hash
    _link_all(ctx, events, head_seq, head_hash)
    conn.execute(_MOVE_HEAD, {"new_seq": events[-1]["seq"], "new_hash": events[-1]["hash"]})


def _link_all(ctx: AuditContext, events: list[dict[str, Any]], prev_seq: int, prev_hash: str) -> None:
    for event in events:
        _link(ctx, event, prev_seq, prev_hash)
        prev_seq, prev_hash = event["seq"], event["hash"]


def _link(ctx: AuditContext, event: dict[str, Any], prev_seq: int, prev_hash: str) -> None:
    event["seq"], event["prev_hash"] = prev_seq + 1, prev_hash
    event["hash"] = compute_hash(ctx.key, event)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(session: Session, key: bytes, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first event whose content, link or position is wrong."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq if ev.seq > expected_seq else ev.seq,
                                    f"sequence gap: expected event {expected_seq}, found {ev.seq} (deleted or inserted)")
            if ev.prev_hash != expected_prev:
                return VerifyResult(False, checked, ev.seq, "link broken: prev_hash does not match the previous event")
            if not hmac.compare_digest(compute_hash(key, ev), ev.hash):
                return VerifyResult(False, checked, ev.seq, "content changed: hash does not match")
            expected_prev, expected_seq, checked = ev.hash, ev.seq + 1, checked + 1
            last = ev.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != last or head_hash != expected_prev:
        return VerifyResult(False, checked, last + 1, f"chain tip mismatch: head says event {head_seq}, log ends at {last} (tail deleted or head changed)")
    return VerifyResult(True, checked)


def events_for(session: Session, subject_type: str, subject_id: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.subject_type == subject_type,
                                                         AuditEvent.subject_id == subject_id).order_by(AuditEvent.seq)))

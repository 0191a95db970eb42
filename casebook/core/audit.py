"""Append-only, hash-chained audit log, kept in shards so unrelated writers do not wait for each other.

Each event carries the HMAC of its predecessor's hash and its own canonical content (``casebook.core.chain``), so
changing, deleting, inserting or reordering a row out of band breaks its shard's chain at that row. A transaction
appends to one shard: the shard of its first event's subject (CRC-32 of type and id, modulo
``CASEBOOK_AUDIT_SHARDS``). Holding one head row per transaction means two transactions never wait for each
other's heads in opposite orders (no deadlocks), and a batch of events moves its head once. Events of one subject
are read in insertion order (``id``), which within a shard follows the chain (``verify`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from casebook.core.chain import (GENESIS, BoundChain, Chain, ChainCheck, ChainedRow, ShardHead, row_hash,
                                  shard_of)
from casebook.core.db import Base, UTCDateTime, bulk_insert, insert_many

__all__ = ["GENESIS", "AuditEvent", "AuditHead", "AuditContext", "record", "record_many", "verify", "events_for",
           "compute_hash", "CHAIN"]


class AuditEvent(ChainedRow, Base):
    __tablename__ = "audit_events"

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

    __table_args__ = (UniqueConstraint("shard", "seq", name="uq_audit_events_shard_seq"),
                      Index("ix_audit_subject", "subject_type", "subject_id", "id"))


class AuditHead(ShardHead, Base):
    """One audit shard's tip."""

    __tablename__ = "audit_head"


HASHED_FIELDS = ("seq", "at", "actor", "action", "subject_type", "subject_id", "ip", "before", "after", "details",
                 "policy_version", "prev_hash")
CHAIN = Chain("audit", AuditEvent.__table__, AuditHead.__table__, HASHED_FIELDS)


def compute_hash(key: bytes, fields: dict[str, Any] | AuditEvent) -> str:
    """HMAC-SHA256 of an event's canonical content (a stored row or the mapping about to be stored)."""
    if isinstance(fields, AuditEvent):
        fields = {name: getattr(fields, name) for name in HASHED_FIELDS}
    return row_hash(key, fields, HASHED_FIELDS)


@dataclass(frozen=True)
class AuditContext:
    """What every append needs besides the event itself."""

    key: bytes
    policy_version: str
    shards: int = 32


def _shard(conn: Connection, ctx: AuditContext, subject_type: str, subject_id: str) -> int:
    """The transaction's shard: its first event's subject's, kept for every later event of the transaction."""
    txn = conn.get_transaction()
    held = conn.info.get("audit_shard")
    if held is not None and held[0] is txn:
        return held[1]
    shard = shard_of(f"{subject_type}:{subject_id}", ctx.shards)
    conn.info["audit_shard"] = (txn, shard)
    return shard


def record(db: Session | Connection, ctx: AuditContext, *, at: datetime, actor: str, action: str, subject_type: str,
           subject_id: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           details: dict[str, Any] | None = None, ip: str | None = None) -> dict[str, Any]:
    """Append one event inside the caller's transaction (so it commits or rolls back with the change)."""
    conn = db.connection() if isinstance(db, Session) else db
    event: dict[str, Any] = {"at": at, "actor": actor, "action": action, "subject_type": subject_type,
                             "subject_id": subject_id, "ip": ip, "before": before, "after": after,
                             "details": details, "policy_version": ctx.policy_version}
    CHAIN.append(conn, ctx.key, _shard(conn, ctx, subject_type, subject_id), [event])
    CHAIN.insert_one.execute(conn, event)
    return event


def record_many(conn: Connection, ctx: AuditContext, events: list[dict[str, Any]], *,
                bulk: bool = False) -> list[dict[str, Any]]:
    """Append several events (each given as ``record``'s keyword arguments) inside the caller's transaction,
    chained in the order given on the transaction's shard: its head moves once for the whole batch. ``bulk``
    (loading a store: ``casebook seed``) hands the rows to SQLite's driver in one executemany, past SQLAlchemy's
    statement events; the services' batches stay one statement that those events see."""
    if not events:
        return []
    full = event_rows(ctx.policy_version, events)
    CHAIN.append(conn, ctx.key, _shard(conn, ctx, full[0]["subject_type"], full[0]["subject_id"]), full)
    if bulk and conn.dialect.name == "sqlite":
        bulk_insert(conn, AuditEvent.__table__, full)  # the driver's executemany: no per-row statement work
    else:
        insert_many(conn, AuditEvent.__table__, full)  # one statement for the batch
    return full


def event_rows(policy_version: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events given as ``record``'s keyword arguments, as rows (not yet linked)."""
    return [{"at": e["at"], "actor": e["actor"], "action": e["action"], "subject_type": e["subject_type"],
             "subject_id": e["subject_id"], "ip": e.get("ip"), "before": e.get("before"), "after": e.get("after"),
             "details": e.get("details"), "policy_version": policy_version} for e in events]


def bind_events(dialect: Any, policy_version: str, events: list[dict[str, Any]]) -> BoundChain | None:
    """``record_many``'s rows bound and serialised without a connection (a seeding worker process);
    ``record_bound`` chains and inserts them."""
    return CHAIN.bind(dialect, event_rows(policy_version, events))


def record_bound(conn: Connection, ctx: AuditContext, first_subject: tuple[str, str],
                 events: BoundChain | None) -> None:
    """Append events ``bind_events`` bound, as ``record_many`` appends them (on the shard of the transaction's
    first subject, ``first_subject`` = (type, id)), inside the caller's transaction."""
    if events is not None:
        CHAIN.insert_bound(conn, ctx.key, _shard(conn, ctx, *first_subject), events)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    shard: int | None = None
    shards: int = 0


def verify(db: Session | Connection, key: bytes, batch: int = 5000) -> VerifyResult:
    """Walk every shard's chain in order; report the first event whose content, link, position or order is
    wrong, or a shard whose head does not match its last event."""
    conn = db.connection() if isinstance(db, Session) else db
    check: ChainCheck = CHAIN.verify(conn, key, batch)
    return VerifyResult(check.ok, check.checked, check.broken_seq, check.reason, check.shard, check.shards)


def events_for(session: Session, subject_type: str, subject_id: str) -> list[AuditEvent]:
    """A subject's events in the order they were written."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.subject_type == subject_type,
                                                         AuditEvent.subject_id == subject_id).order_by(AuditEvent.id)))


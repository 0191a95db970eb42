"""The access log: who read or downloaded which case version, when and from where, without the audit chain.

A page view or an API read must not take an audit head (every read would then serialise with every write), yet
it must stay on record. Reads are queued in the process (``AccessLog.add``: a list append under a lock) and
written in batches, each batch one transaction that chains its entries on one shard of their own hash chain
(``casebook.core.chain``, stream ``access``): one head move and one multi-row INSERT per batch. A batch is written
when it reaches ``CASEBOOK_ACCESS_LOG_BATCH`` entries, by a background thread every
``CASEBOOK_ACCESS_LOG_FLUSH_SECONDS``, and when the context closes (and at interpreter exit). Entries still queued
when a process is killed are lost; downloads also write their ``downloads`` row at once (the bulk-download rule
counts those), so a lost entry never lets a bulk download through.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.chain import Chain, ChainedRow, ShardHead
from casebook.core.db import Base, UTCDateTime
from casebook.core.queued import QueuedRows

class AccessEntry(ChainedRow, Base):
    """One read of case content: a view (page, API, CLI) or a download/export."""

    __tablename__ = "access_log"

    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))        # view | download
    case_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))           # page | api | cli

    # Who read one case lately (a takedown tells them) is a range of this index, never a scan of the log.
    __table_args__ = (UniqueConstraint("shard", "seq", name="uq_access_log_shard_seq"),
                      Index("ix_access_log_case_at", "case_key", "at"))


class AccessHead(ShardHead, Base):
    """One access-log shard's tip."""

    __tablename__ = "access_head"


HASHED_FIELDS = ("seq", "at", "actor", "action", "case_key", "version", "ip", "via", "prev_hash")
CHAIN = Chain("access", AccessEntry.__table__, AccessHead.__table__, HASHED_FIELDS)
ACTIONS = frozenset({"view", "download"})


class AccessLog(QueuedRows):
    """One process's queue of reads for one store, written in batches (see the module's docstring)."""

    def __init__(self, engine: Engine, key: bytes, *, shards: int, batch: int, interval: float) -> None:
        super().__init__(engine, AccessEntry.__table__, batch=batch, interval=interval)
        self.key, self.shards = key, shards
        self._batches = itertools.count()

    def add(self, *, at: datetime, actor: str, action: str, case_key: str, version: int | None,  # type: ignore[override]
            ip: str | None, via: str) -> None:
        """Queue one read; written with its batch (at once when the batch is full)."""
        if action not in ACTIONS:
            raise ValueError(f"access action must be one of {sorted(ACTIONS)}, not {action!r}")
        super().add({"at": at, "actor": actor, "action": action, "case_key": case_key, "version": version,
                     "ip": ip, "via": via})

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def queued(self, case_key: str) -> list[dict[str, Any]]:
        """This process's entries for one case not written yet (a takedown counts them as reads too)."""
        with self._lock:
            return [dict(e) for e in self._pending if e["case_key"] == case_key]

    def _write(self, entries: list[dict[str, Any]]) -> None:
        # Batches rotate over the shards so that several processes flushing at once rarely meet on one head.
        shard = (next(self._batches) + id(self)) % self.shards
        with self.engine.begin() as conn:
            CHAIN.append(conn, self.key, shard, entries)
            conn.execute(AccessEntry.__table__.insert(), entries)

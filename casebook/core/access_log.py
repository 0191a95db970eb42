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

import atexit
import itertools
import threading
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.chain import Chain, ChainedRow, ShardHead
from casebook.core.db import Base, UTCDateTime

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


class AccessLog:
    """One process's queue of reads for one store, written in batches (see the module's docstring)."""

    def __init__(self, engine: Engine, key: bytes, *, shards: int, batch: int, interval: float) -> None:
        self.engine, self.key, self.shards, self.batch, self.interval = engine, key, shards, batch, interval
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()          # guards _pending
        self._writing = threading.Lock()       # one batch at a time per process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._batches = itertools.count()
        _open_logs.add(self)

    def add(self, *, at: datetime, actor: str, action: str, case_key: str, version: int | None, ip: str | None,
            via: str) -> None:
        """Queue one read; written with its batch (at once when the batch is full)."""
        if action not in ACTIONS:
            raise ValueError(f"access action must be one of {sorted(ACTIONS)}, not {action!r}")
        entry = {"at": at, "actor": actor, "action": action, "case_key": case_key, "version": version, "ip": ip,
                 "via": via}
        with self._lock:
            self._pending.append(entry)
            full = len(self._pending) >= self.batch
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="casebook-access-log", daemon=True)
                self._thread.start()
        if full:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def queued(self, case_key: str) -> list[dict[str, Any]]:
        """This process's entries for one case not written yet (a takedown counts them as reads too)."""
        with self._lock:
            return [dict(e) for e in self._pending if e["case_key"] == case_key]

    def flush(self) -> int:
        """Write everything queued so far (one transaction per batch); how many entries were written."""
        written = 0
        with self._writing:
            while True:
                with self._lock:
                    entries, self._pending = self._pending[:self.batch], self._pending[self.batch:]
                if not entries:
                    return written
                try:
                    self._write(entries)
                except Exception:
                    with self._lock:               # keep them for the next attempt, in order
                        self._pending[:0] = entries
                    raise
                written += len(entries)

    def _write(self, entries: list[dict[str, Any]]) -> None:
        # Batches rotate over the shards so that several processes flushing at once rarely meet on one head.
        shard = (next(self._batches) + id(self)) % self.shards
        with self.engine.begin() as conn:
            CHAIN.append(conn, self.key, shard, entries)
            conn.execute(AccessEntry.__table__.insert(), entries)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the store is away for a moment: the entries stay queued
                continue

    def close(self) -> None:
        """Stop the background writer and write what is queued."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 5)
        self.flush()
        _open_logs.discard(self)


_open_logs: "weakref.WeakSet[AccessLog]" = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for log in list(_open_logs):
        try:
            log.close()
        except Exception:  # noqa: BLE001 - nothing left to report to at exit
            pass

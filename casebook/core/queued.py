"""Rows written in batches after the request that produced them: logs a reader's request adds to (the search log)
without waiting for SQLite's write lock or holding a transaction of its own.

``QueuedRows.add`` appends to a list under a lock; a background thread inserts what is queued every
``interval`` seconds (one transaction, one multi-row INSERT), at once when ``batch`` rows are waiting, and when
the context closes (and at interpreter exit). Rows still queued when a process is killed are lost: the search log
(statistics) accepts that; the access log (``casebook.core.access_log``, which extends this queue) does because a
download's row, which the bulk-download rule counts, is written at once.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Engine

from casebook.core.db import writing


class QueuedRows:
    """One process's queue of rows for one table."""

    def __init__(self, engine: Engine, table: Table, *, batch: int, interval: float) -> None:
        self.engine, self.table, self.batch, self.interval = engine, table, batch, interval
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()       # guards _pending and _thread
        self._writing = threading.Lock()    # one batch at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _open.add(self)

    def add(self, row: dict[str, Any]) -> None:
        """Queue one row; inserted with the next batch."""
        with self._lock:
            self._pending.append(row)
            full = len(self._pending) >= self.batch
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name=f"casebook-{self.table.name}",
                                                daemon=True)
                self._thread.start()
        if full:
            self.flush()

    def flush(self) -> int:
        """Insert everything queued so far; how many rows were written (kept queued if the store refuses)."""
        written = 0
        with self._writing:
            while True:
                with self._lock:
                    rows, self._pending = self._pending[:self.batch], self._pending[self.batch:]
                if not rows:
                    return written
                try:
                    self._write_batch(rows)
                except Exception:
                    with self._lock:
                        self._pending[:0] = rows
                    raise
                written += len(rows)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.insert(), rows)

    def _write_batch(self, rows: list[dict[str, Any]]) -> None:
        with writing():    # a batch is its own write transaction, even when a read path filled the queue
            self._write(rows)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the store is away for a moment: the rows stay queued
                continue

    def close(self) -> None:
        """Stop the background writer and write what is queued."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 5)
        self.flush()
        _open.discard(self)


_open: "weakref.WeakSet[QueuedRows]" = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for queue in list(_open):
        try:
            queue.close()
        except Exception:  # noqa: BLE001 - the store is gone at exit: nothing more can be done
            pass

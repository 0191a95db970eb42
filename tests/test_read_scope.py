"""Read paths never wait for writers: inside ``casebook.core.db.reading()`` SQLite transactions begin DEFERRED
(a WAL snapshot) instead of IMMEDIATE, and a write sent inside one is refused rather than upgraded."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from casebook.core.db import WriteInReadScope, reading
from library import search
from redaction.views import rendered_view
from tests.web_helpers import client, people, published_case


def test_a_write_inside_a_read_scope_is_refused_and_changes_nothing(ctx) -> None:
    with ctx.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
    with reading(), pytest.raises(WriteInReadScope, match="read-only"):
        with ctx.engine.begin() as conn:
            conn.execute(text("INSERT INTO scratch VALUES (1)"))
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0
        with reading():
            assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0   # reads go through


def test_readers_go_on_while_a_writer_holds_the_sqlite_write_lock(ctx, full_case, db_url) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock that readers used to queue on is SQLite's (PostgreSQL readers never took it)")
    users = people(ctx)
    key = published_case(ctx, users, full_case, "internal")
    api = client(ctx, "head")
    assert api.get(f"/cases/{key}").status_code == 200          # warm: sessions, templates, caches
    holder = sqlite3.connect(ctx.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")                             # a long write transaction elsewhere
    done: dict[str, object] = {}

    def read() -> None:
        started = time.perf_counter()
        done["view"] = rendered_view(ctx, users["head"], key)[0].key
        done["search"] = search.search(ctx, users["head"], "快閃店").total
        done["page"] = api.get(f"/cases/{key}").status_code
        done["api"] = api.get(f"/api/v1/cases/{key}").status_code
        done["took"] = time.perf_counter() - started

    reader = threading.Thread(target=read, daemon=True)
    try:
        reader.start()
        reader.join(timeout=10)   # before: every read began IMMEDIATE and waited up to the 30 s busy timeout
        assert not reader.is_alive(), f"a reader waited for the writer's lock (done: {done})"
    finally:
        holder.execute("COMMIT")
        holder.close()
        reader.join(timeout=40)
    assert done["view"] == key and done["search"] >= 1 and done["page"] == 200 and done["api"] == 200, done


def test_a_queue_filled_inside_a_read_scope_writes_its_batch(ctx) -> None:
    """A full batch is written where it fills up; inside ``reading()`` that is still its own write transaction."""
    from casebook.core.queued import QueuedRows
    from library.usage import SEARCHES

    queue = QueuedRows(ctx.engine, SEARCHES, batch=2, interval=60)
    row = {"at": ctx.clock.now(), "actor": "someone", "query": "快閃", "ms": 3, "results": 1}
    with reading():
        queue.add(row)
        queue.add(row)                      # the batch is full: written now
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_log")).scalar_one() == 2
    queue.close()

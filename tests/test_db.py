"""``casebook.core.db.Prepared`` (the transition hot path's statements on the DBAPI cursor) must read and write exactly
what SQLAlchemy's own execution would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from casebook.core.audit import AuditEvent
from casebook.core.db import Prepared, UTCDateTime
from lifecycle.models import Case
from lifecycle.service import CaseService

EVENTS = AuditEvent.__table__
CASES = Case.__table__
_NOON = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
#: The same instant as several objects and zones, another instant, and no value.
MOMENTS = [_NOON, _NOON.astimezone(timezone(timedelta(hours=8))), datetime(2026, 11, 23, 12, tzinfo=timezone.utc),
           _NOON + timedelta(microseconds=1), None]


def test_prepared_statements_match_sqlalchemy_execution(ctx, users, full_case) -> None:
    key = CaseService(ctx).create(users["alice"], full_case)
    at = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    row = {"shard": 7, "seq": 10_000, "at": at, "actor": "張三", "action": "case.test", "subject_type": "case",
           "subject_id": key, "ip": None, "before": {"state": "draft"}, "after": {"預算": 12.5, "on": True},
           "details": None, "policy_version": "p1", "prev_hash": "0" * 64, "hash": "f" * 64}
    with ctx.engine.begin() as conn:
        assert Prepared(EVENTS.insert()).execute(conn, row) == 1                     # in the caller's transaction
        stored = conn.execute(select(EVENTS).where(EVENTS.c.seq == 10_000)).one()
        assert stored.id > 0                                                        # given by the database
        assert (stored.at, stored.before, stored.after, stored.details, stored.actor) == (
            at, row["before"], row["after"], None, "張三")
        update = Prepared(CASES.update().where(CASES.c.key == bindparam("b_key")))
        assert update.execute(conn, {"b_key": key, "micro": True, "expires_at": at}) == 1
        assert update.execute(conn, {"b_key": "CB-none", "micro": False}) == 0
        read = select(CASES.c.id, CASES.c.key, CASES.c.micro, CASES.c.expires_at, CASES.c.state).where(
            CASES.c.key == bindparam("b_key"))
        ours, theirs = Prepared(read).one_or_none(conn, {"b_key": key}), conn.execute(read, {"b_key": key}).one()
        assert tuple(ours) == tuple(theirs) and ours.micro is True and ours.expires_at == at
        assert Prepared(read).one_or_none(conn, {"b_key": "CB-none"}) is None
        # A value SQLAlchemy must compute (a callable) takes its construct_params path; constants are kept.
        computed = Prepared(read.where(CASES.c.micro == bindparam("b_micro", callable_=lambda: True)))
        assert computed.one_or_none(conn, {"b_key": key}).key == key
        assert Prepared(read.where(CASES.c.state == "draft")).one_or_none(conn, {"b_key": key}).key == key
        assert Prepared(read.where(CASES.c.state == "published")).one_or_none(conn, {"b_key": key}) is None
        conn.rollback()
    with ctx.engine.connect() as conn:                                              # rolled back with the rest
        assert conn.execute(select(EVENTS.c.seq).where(EVENTS.c.seq == 10_000)).first() is None


def test_sqlite_engine_settings_are_applied_and_bad_ones_refused(tmp_path) -> None:
    """The WAL checkpoint interval and durability reach every connection; a value out of range fails at start-up."""
    import pytest

    from casebook.core.db import make_engine
    from casebook.core.settings import Settings

    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}", sqlite_wal_autocheckpoint=2_500)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 2_500
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2          # FULL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    engine.dispose()
    with pytest.raises(ValueError, match="sqlite_wal_autocheckpoint"):
        make_engine(f"sqlite:///{tmp_path / 'f.db'}", sqlite_wal_autocheckpoint=0)
    with pytest.raises(ValueError, match="sqlite_wal_autocheckpoint"):
        Settings(sqlite_wal_autocheckpoint=10)


def test_sqlite_begin_that_cannot_take_the_lock_raises_sqlalchemys_error(tmp_path) -> None:
    """BEGIN IMMEDIATE goes to the driver directly; a held write lock still ends in sqlalchemy.exc.OperationalError."""
    import sqlite3

    import pytest
    from sqlalchemy.exc import OperationalError

    from casebook.core.db import make_engine

    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=50")
            with pytest.raises(OperationalError, match="database is locked"):
                conn.begin()
        holder.execute("COMMIT")
        with engine.begin() as conn:                                        # free again: the next one goes through
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        holder.close()
        engine.dispose()


@given(st.lists(st.sampled_from(MOMENTS), min_size=1, max_size=30))
def test_datetime_binding_remembers_only_the_very_same_value(sequence: list[datetime | None]) -> None:
    """Equal instants in other zones, other objects and None all bind as a fresh conversion would."""
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        memo = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        for value in sequence:
            fresh = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
            assert memo(value) == fresh(value)


def test_partial_indexes_carry_their_postgresql_predicate_once_postgresql_is_used() -> None:
    """The models name SQLite's predicate at import and PostgreSQL's when a PostgreSQL engine is made (so a SQLite
    store never loads the PostgreSQL dialect); both compile to the same partial index."""
    from sqlalchemy.schema import CreateIndex

    from casebook.core.db import Base, make_engine, partial_index

    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")   # no connection is opened
    partial = [ix for t in Base.metadata.tables.values() for ix in t.indexes if "partial_where" in ix.info]
    assert {ix.name for ix in partial} >= {"ix_review_tasks_live", "ix_cases_submission_due", "ix_cases_expires_at"}
    for index in [*partial, partial_index("ix_later", "a", where="a > 1")]:   # defined after the engine, too
        if index.table is None:
            continue
        where = index.info["partial_where"]
        assert str(CreateIndex(index).compile(dialect=postgresql.dialect())).endswith(f"WHERE {where}"), index.name
        assert str(CreateIndex(index).compile(dialect=sqlite.dialect())).endswith(f"WHERE {where}"), index.name
    later = partial_index("ix_later", "a", where="a > 1")
    assert str(later.dialect_options["postgresql"]["where"]) == "a > 1"
    engine.dispose()

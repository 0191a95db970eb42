"""Database engine and sessions: SQLite (WAL, foreign keys, durable commits) by default, PostgreSQL in production."""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from pathlib import Path
from datetime import datetime, timezone
from typing import Any, NamedTuple, ParamSpec, TypeVar

from sqlalchemy import JSON, DateTime, Index, MetaData, Table, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_READING: ContextVar[bool] = ContextVar("casebook_reading", default=False)
_READ_VERBS = ("SELECT", "WITH", "PRAGMA", "EXPLAI")
P = ParamSpec("P")
R = TypeVar("R")


class WriteInReadScope(RuntimeError):
    """A statement that writes was sent inside ``reading()``: a read path that writes must not be marked as one."""


@contextmanager
def reading() -> Iterator[None]:
    """Database work inside is read-only. On SQLite its transactions begin DEFERRED (a WAL snapshot: readers never
    wait for each other or for a writer) instead of IMMEDIATE, which every other transaction takes so that
    read-then-write never fails on the lock upgrade; a write sent inside raises ``WriteInReadScope``."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Leave a ``reading()`` scope for work that is its own write transaction (a queue's batch written while a
    read path runs)."""
    token = _READING.set(False)
    try:
        yield
    finally:
        _READING.reset(token)


def reads(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a function that only reads the store (``reading()`` around its whole call)."""
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with reading():
            return fn(*args, **kwargs)
    return wrapper


def _refuse_writes_while_reading(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _READING.get() and not statement.lstrip()[:6].upper().startswith(_READ_VERBS):
            raise WriteInReadScope(f"write inside a read-only scope: {statement[:80]}")


class Base(DeclarativeBase):
    """Declarative base of every Casebook table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


#: Whether this process has made a PostgreSQL engine (its partial indexes then carry ``postgresql_where``).
_postgresql_in_use = False


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of only the rows ``where`` holds for (SQL text that SQLite and PostgreSQL read alike).

    SQLite's predicate is set here, PostgreSQL's once the process makes a PostgreSQL engine: naming
    ``postgresql_where`` at import makes SQLAlchemy import its whole PostgreSQL dialect to check the keyword,
    about a tenth of a second of every command on a SQLite store. (The migrations create the indexes; the models'
    predicates serve the schema comparison and anything that reads them from the metadata.)"""
    index = Index(name, *columns, sqlite_where=text(where), info={"partial_where": where})
    if _postgresql_in_use:
        index.dialect_kwargs["postgresql_where"] = text(where)
    return index


def _partial_indexes_for_postgresql() -> None:
    """Give every partial index defined so far its PostgreSQL predicate (later ones get it when defined)."""
    global _postgresql_in_use
    _postgresql_in_use = True
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.info.get("partial_where")
            if where is not None and index.dialect_options["postgresql"]["where"] is None:
                index.dialect_kwargs["postgresql_where"] = text(where)


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", sqlite_wal_autocheckpoint: int = 10_000,
                **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and writer-first transactions.

    ``sqlite_synchronous`` stays FULL (every commit reaches the disk: an audit log must survive power loss);
    only throw-away stores such as ``casebook simulate``'s choose NORMAL (WAL still survives a process crash).
    ``sqlite_wal_autocheckpoint`` (pages): every transition rewrites the same few hot pages (the audit head, the
    tail of the event log); checkpointing every 10,000 instead of SQLite's 1,000 copies each back once per 40 MB
    of log rather than once per 4 MB, with the same durability."""
    if sqlite_synchronous not in ("FULL", "NORMAL", "OFF"):
        raise ValueError(f"sqlite_synchronous must be FULL, NORMAL or OFF, not {sqlite_synchronous!r}")
    if not 100 <= sqlite_wal_autocheckpoint <= 1_000_000:
        raise ValueError(f"sqlite_wal_autocheckpoint must be 100 to 1,000,000 pages, not {sqlite_wal_autocheckpoint!r}")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute(f"PRAGMA wal_autocheckpoint={int(sqlite_wal_autocheckpoint)}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock up front: read-then-write transactions never deadlock on upgrade. Sent on the
            # driver's connection: a statement without parameters or results needs none of the execution machinery;
            # a failure (the lock not free within the busy timeout) still surfaces as SQLAlchemy's own error.
            try:
                conn.connection.driver_connection.execute("BEGIN" if _READING.get() else "BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise DBAPIError.instance("BEGIN IMMEDIATE", None, error, sqlite3.Error,
                                          dialect=engine.dialect) from error

        _refuse_writes_while_reading(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if engine.dialect.name == "postgresql":
        _partial_indexes_for_postgresql()
    _refuse_writes_while_reading(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session:
        with session.begin():
            yield session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def skip_locked(conn: Connection, stmt: Any, **of: Any) -> Any:
    """``stmt`` locking the rows it returns with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers running
    the same query take disjoint rows and never wait on each other; SQLite's one writer needs no row locks."""
    return stmt.with_for_update(skip_locked=True, **of) if conn.dialect.name == "postgresql" else stmt


def _dialect_insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql   # here: a SQLite store never loads the PostgreSQL dialect

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


_STATEMENTS: dict[tuple[str, Table, tuple[str, ...], tuple[str, ...], str], Any] = {}


def _prepared(conn: Connection, table: Table, columns: tuple[str, ...], key: list[str], kind: str) -> Any:
    """The dialect's INSERT … ON CONFLICT for these columns, built once: executed with the row as parameters,
    so neither building the statement nor its cache key is repeated per row (that was most of an outbox insert)."""
    cache_key = (conn.dialect.name, table, columns, tuple(key), kind)
    stmt = _STATEMENTS.get(cache_key)
    if stmt is None:
        base = _dialect_insert(conn, table)
        if kind == "nothing":
            stmt = base.on_conflict_do_nothing(index_elements=key).returning(*table.primary_key.columns)
        else:
            stmt = base.on_conflict_do_update(index_elements=key, set_={
                c: getattr(base.excluded, c) for c in columns if c not in key})
        _STATEMENTS[cache_key] = stmt
    return stmt


def insert_if_absent(conn: Connection, table: Table, row: dict[str, Any], key: list[str]) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING on SQLite and PostgreSQL; True when the row is new.

    Reads RETURNING rather than rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING.
    """
    stmt = _prepared(conn, table, tuple(sorted(row)), key, "nothing")
    return conn.execute(stmt, row).first() is not None


_MANY: dict[tuple[str, Table, tuple[str, ...]], Any] = {}


def _many(conn: Connection, table: Table, key: list[str] | None) -> Any:
    """INSERT (… ON CONFLICT (key) DO NOTHING) RETURNING the key, built once per dialect and table: executed with a
    list of rows, SQLAlchemy's "insertmanyvalues" sends them as multi-row VALUES statements (up to 1,000 rows
    each) from a statement compiled once, instead of compiling every value of a literal multi-row insert."""
    cache_key = (conn.dialect.name, table, tuple(key or ()))
    stmt = _MANY.get(cache_key)
    if stmt is None:
        if key:
            stmt = _dialect_insert(conn, table).on_conflict_do_nothing(index_elements=key)
            stmt = stmt.returning(*(table.c[k] for k in key))
        else:
            stmt = table.insert().returning(*table.primary_key.columns)
        _MANY[cache_key] = stmt
    return stmt


def insert_many_if_absent(conn: Connection, table: Table, rows: list[dict[str, Any]], key: list[str]) -> list[Any]:
    """Many rows by one INSERT … ON CONFLICT (key) DO NOTHING; the key of every row that was new (a tuple when the
    key has several columns), in no particular order."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        result = _pg_insert(conn, table, rows, key)
    else:
        result = conn.execute(_many(conn, table, key), rows)
    return [r[0] for r in result] if len(key) == 1 else [tuple(r) for r in result]


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows by one INSERT."""
    if rows:
        if conn.dialect.name == "postgresql":
            _pg_insert(conn, table, rows, None)
        else:
            conn.execute(_many(conn, table, None), rows).all()


_PG_INSERTS: dict[tuple[Table, tuple[str, ...], tuple[str, ...]], tuple[str, list[tuple[str, Any, bool]]]] = {}


def _pg_insert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: list[str] | None) -> Any:
    """PostgreSQL: the rows as ONE JSON parameter, unpacked by ``json_to_recordset`` into the columns' own types.
    A multi-row VALUES statement has a placeholder per value, which psycopg re-parses in Python on every
    execution (2.5 s of 6.5 s in a 1,000-case expiry run); one parameter costs one JSON encode."""
    columns = tuple(rows[0])
    cache_key = (table, columns, tuple(key or ()))
    plan = _PG_INSERTS.get(cache_key)
    if plan is None:
        dialect = conn.dialect
        names = ", ".join(f'"{c}"' for c in columns)
        spec = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=dialect)}' for c in columns)
        tail = f" ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING {', '.join(key)}" if key else ""
        sql = f'INSERT INTO {table.name} ({names}) SELECT {names} FROM json_to_recordset(%(rows)s) AS r({spec}){tail}'
        # JSON columns go in as JSON (their processor would make them strings); others through their processor.
        steps = [_pg_step(table.c[c].type, c, dialect) for c in columns]
        plan = (sql, steps)
        _PG_INSERTS[cache_key] = plan
    sql, steps = plan
    data = [{c: (row[c] if raw or fn is None else fn(row[c])) for c, fn, raw in steps} for row in rows]
    result = conn.exec_driver_sql(sql, {"rows": json.dumps(data, default=str, ensure_ascii=False)})
    return result.all() if key else []


def _pg_step(type_: Any, column: str, dialect: Any) -> tuple[str, Any, bool]:
    """How one column's value enters ``json_to_recordset``: JSON as JSON, a JSON-based decorator (an encrypted
    column) through its own ``process_bind_param`` then as JSON, anything else through its bind processor."""
    if isinstance(type_, TypeDecorator) and isinstance(type_.impl_instance, JSON):
        return column, lambda value: type_.process_bind_param(value, dialect), False
    return column, processor_of_type(type_, dialect), isinstance(type_, JSON)


def processor_of_type(type_: Any, dialect: Any) -> Any:
    return type_.dialect_impl(dialect).bind_processor(dialect)


def refresh_statistics(engine: Engine) -> None:
    """Bring the planners' statistics up to date (after migrations, after bulk loads, and nightly).

    Without them SQLite walks the primary key rather than a partial due index (the index's size is unknown) and
    PostgreSQL guesses the due sets' sizes; its visibility map (VACUUM) lets a due walk read the index alone.
    SQLite: ``ANALYZE`` then ``PRAGMA optimize``; PostgreSQL: ``VACUUM (ANALYZE)`` outside a transaction."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA optimize")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")


def upsert(conn: Connection, table: Table, row: dict[str, Any], key: list[str]) -> None:
    """INSERT, or on a key conflict UPDATE the row's other columns (SQLite and PostgreSQL)."""
    conn.execute(_prepared(conn, table, tuple(sorted(row)), key, "update"), row)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as naive UTC, so SQLite and PostgreSQL round-trip the same value."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)

    def bind_processor(self, dialect: Any) -> Any:
        """The usual conversion, remembering its last value: one transition binds the same ``now`` to several
        columns (state changed, updated, published, the audit event), and converting it once is enough."""
        convert = super().bind_processor(dialect)
        last: list[tuple[Any, Any]] = [(None, None)]

        def process(value: datetime | None) -> Any:
            seen, out = last[0]  # one tuple, swapped whole: threads sharing the processor never see half of one
            if value is seen and value is not None:
                return out
            out = convert(value)
            last[0] = (value, out)
            return out

        return process


def processor_of(bind: Any, dialect: Any) -> Any:
    """The dialect's bind processor for a bound parameter (None when values pass through unchanged)."""
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


class _Plan(NamedTuple):
    """A compiled statement and how to turn given parameters into the driver's values."""

    compiled: Any
    processors: list[tuple[str, Any]]
    steps: list[tuple[str, str | None, Any, Any]] | None
    names: list[str]


class Prepared:
    """A Core statement run on the DBAPI cursor of the caller's connection (so in its transaction), compiled
    once per dialect and parameter set, with SQLAlchemy's own bind processors applied to the values.

    For the few statements every transition runs: SQLAlchemy's per-execution work (cache key, events, result
    set-up) costs several times the statement itself there. Returns the cursor's rowcount.
    """

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, frozenset[str]], _Plan] = {}
        self._readers: dict[str, tuple[Any, list[Any]]] = {}

    def _plan(self, dialect: Any, keys: frozenset[str]) -> _Plan:
        plan = self._plans.get((dialect.name, keys))
        if plan is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=sorted(keys))
            by_name = {name: bind for bind, name in compiled.bind_names.items()}
            names = list(compiled.positiontup) if compiled.positional else list(by_name)
            processors = [(name, processor_of(by_name[name], dialect)) for name in names]
            # Each value is a given parameter (by its bind's key) or a constant such as the 1 of ``id = 1``;
            # anything else (callables, expanding IN lists, missing required values) goes through SQLAlchemy.
            steps: list[tuple[str, str | None, Any, Any]] | None = []
            for name, processor in processors:
                bind = by_name[name]
                if bind.key in keys:
                    steps.append((name, bind.key, None, processor))
                elif bind.callable is None and not bind.expanding and not bind.required:
                    steps.append((name, None, bind.value, processor))
                else:
                    steps = None
                    break
            plan = _Plan(compiled, processors, steps, names)
            self._plans[(dialect.name, keys)] = plan
        return plan

    def _run(self, conn: Connection, params: dict[str, Any]) -> Any:
        plan = self._plan(conn.dialect, frozenset(params))
        compiled = plan.compiled
        values: list[Any] = []
        if plan.steps is not None:  # skips construct_params (defaults, callables, IN lists: none of them here)
            for _, key, const, fn in plan.steps:
                value = params[key] if key is not None else const
                values.append(value if fn is None else fn(value))
        else:
            given = compiled.construct_params(params)
            for name, fn in plan.processors:
                value = given[name]
                values.append(value if fn is None else fn(value))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if compiled.positional:
            cursor.execute(compiled.string, values)
        else:
            cursor.execute(compiled.string, dict(zip(plan.names, values)))
        return cursor

    def execute_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run an INSERT for many rows with the same keys in one ``executemany`` (bulk loading: seeding)."""
        if not rows:
            return
        bound = self.bind_many(conn.dialect, rows)
        if bound is None:
            conn.execute(self.stmt, rows)
            return
        self.execute_bound(conn, bound)

    def bind_many(self, dialect: Any, rows: list[dict[str, Any]]) -> "BoundRows | None":
        """The driver's values of many rows with the same keys, through the dialect's bind processors (JSON
        serialised, datetimes converted, marked values sealed), without a connection: a seeding worker process
        binds, the writing process only runs ``execute_bound``. None when the statement needs SQLAlchemy."""
        keys = frozenset(rows[0])
        plan = self._plan(dialect, keys)
        if plan.steps is None:
            return None
        steps = [(key, const, fn) for _, key, const, fn in plan.steps]
        batch = [[(params[key] if key is not None else const) if fn is None else
                  fn(params[key] if key is not None else const) for key, const, fn in steps] for params in rows]
        if dialect.name == "postgresql":
            _dump_json_wrappers(batch)
        for row in batch:  # SQLite binds blobs as memoryview, which cannot be pickled to the writing process
            for i, value in enumerate(row):
                if type(value) is memoryview:
                    row[i] = bytes(value)
        return BoundRows(keys, [name for name, _key, _const, _fn in plan.steps], batch)

    def execute_bound(self, conn: Connection, bound: "BoundRows") -> None:
        """Run the INSERT for rows ``bind_many`` bound (for this connection's dialect)."""
        if not bound.batch:
            return
        plan = self._plan(conn.dialect, bound.keys)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if plan.compiled.positional:
                cursor.executemany(plan.compiled.string, bound.batch)
            else:
                cursor.executemany(plan.compiled.string, [dict(zip(plan.names, v)) for v in bound.batch])
        finally:
            cursor.close()

    def execute(self, conn: Connection, params: dict[str, Any]) -> int:
        """Run an INSERT/UPDATE/DELETE; its rowcount."""
        cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def one_or_none(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Run a SELECT of plain columns; its first row as a named tuple (values through the columns' result
        processors, as SQLAlchemy would return them), or None."""
        readers = self._readers.get(conn.dialect.name)
        if readers is None:
            columns = list(self.stmt.selected_columns)
            processors = [(i, c.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None))
                          for i, c in enumerate(columns)]
            readers = (namedtuple("Row", [c.key for c in columns]),  # type: ignore[misc]
                       [(i, fn) for i, fn in processors if fn is not None])
            self._readers[conn.dialect.name] = readers
        cursor = self._run(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        row_type, processors = readers
        if not processors:
            return row_type._make(row)
        values = list(row)
        for index, fn in processors:
            values[index] = fn(values[index])
        return row_type._make(values)


class BoundRows(NamedTuple):
    """Rows bound for one INSERT: the given keys, the statement's parameter names and each row's driver values in
    that order (plain values: they cross a process boundary by pickling)."""

    keys: frozenset[str]
    names: list[str]
    batch: list[list[Any]]

    def slot(self, key: str) -> int:
        """The position of a given key's value in each row (for values set after binding, such as chain links)."""
        return self.names.index(key)


def _dump_json_wrappers(batch: list[list[Any]]) -> None:
    """psycopg's JSON adapters (``Json``/``Jsonb``: what SQLAlchemy's psycopg dialect binds JSON as) serialised here,
    with the adapter's own function (``dumps``, else ``json.dumps`` as psycopg does): the statement casts the
    parameter (``::JSON``), so the text reads back as the same value, and the writing process skips the work
    (tests/test_seed.py compares what reads back)."""
    from psycopg.types.json import Json, Jsonb

    for row in batch:
        for i, value in enumerate(row):
            if isinstance(value, (Json, Jsonb)):
                row[i] = (value.dumps or json.dumps)(value.obj)


_INSERTS: dict[str, Prepared] = {}


def _insert_of(table: Table) -> Prepared:
    prepared = _INSERTS.get(table.name)
    if prepared is None:
        prepared = _INSERTS[table.name] = Prepared(table.insert())
    return prepared


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows into one table through the driver's executemany (SQLAlchemy's bind processors applied)."""
    if rows:
        _insert_of(table).execute_many(conn, rows)


def bulk_bind(dialect: Any, table: Table, rows: list[dict[str, Any]]) -> BoundRows | None:
    """``rows`` bound for ``bulk_insert_bound`` into ``table`` (None for no rows); no connection needed."""
    if not rows:
        return None
    bound = _insert_of(table).bind_many(dialect, rows)
    if bound is None:
        raise ValueError(f"{table.name}: these rows need SQLAlchemy's own insert")
    return bound


def bulk_insert_bound(conn: Connection, table: Table, bound: BoundRows | None) -> None:
    """Insert rows ``bulk_bind`` bound for ``table``."""
    if bound is not None:
        _insert_of(table).execute_bound(conn, bound)

"""Shared fixtures: every database test runs on SQLite and, when CASEBOOK_TEST_PG_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from casebook import store
from casebook.core.clock import FixedClock
from casebook.assembly import build_context
from casebook.core.context import AppContext
from casebook.core.db import processor_of
from casebook.models import Base
from casebook.core.settings import Settings
from casebook.core.users import Actor, add_user
from policies import DEFAULT_POLICY_PATH, load_policy

PG_URL = os.environ.get("CASEBOOK_TEST_PG_URL")
FIXTURES = Path(__file__).parent / "fixtures"
TZ = ZoneInfo("Asia/Shanghai")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def policy():
    return load_policy(DEFAULT_POLICY_PATH)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A private PostgreSQL database for this test process (parallel workers never share one)."""
    if not PG_URL:
        pytest.skip("CASEBOOK_TEST_PG_URL is not set: PostgreSQL tests skipped (.ci/run sets it when PostgreSQL answers)")
    name = f"casebook_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(ctx: AppContext) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with ctx.engine.begin() as conn:
        if ctx.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f"DELETE FROM {t}"))


_migrated: set[str] = set()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'casebook.db'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A fresh CASEBOOK_HOME pointing at this test's database, for CLI and context alike."""
    h = tmp_path / "home"
    monkeypatch.setenv("CASEBOOK_HOME", str(h))
    monkeypatch.setenv("CASEBOOK_DB_URL", db_url)
    monkeypatch.setenv("CASEBOOK_AUDIT_KEY", "test-audit-key")
    # Cheap argon2 in tests (every web test sets ten passwords); the timing test uses the default cost.
    monkeypatch.setenv("CASEBOOK_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("CASEBOOK_PASSWORD_MEMORY_KIB", "1024")
    monkeypatch.delenv("CASEBOOK_POLICY", raising=False)
    monkeypatch.delenv("CASEBOOK_USER", raising=False)
    monkeypatch.delenv("CASEBOOK_NOW", raising=False)
    return h


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 10, 20, 10, 0, tzinfo=TZ), TZ)


@pytest.fixture
def ctx(home: Path, db_url: str, clock: FixedClock, policy) -> Iterator[AppContext]:
    """A migrated, empty store on the test's backend with a movable clock."""
    context = build_context(settings=Settings(), clock=clock, policy=policy)
    if db_url not in _migrated:
        store.upgrade(context.engine)
        if db_url.startswith("postgresql"):
            _migrated.add(db_url)
    _truncate(context)
    yield context
    context.close()


def make_users(ctx: AppContext, *specs: tuple[str, str, str]) -> dict[str, Actor]:
    """Add users given as (username, role, department); returns their actors."""
    out = {}
    with ctx.sessions.begin() as session:
        for username, role, department in specs:
            user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="test-setup", username=username,
                            role=role, department=department)
            out[username] = Actor.of(user)
    return out


STANDARD_USERS = [("alice", "staff", "marketing"), ("bob", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                  ("spec2", "case_specialist", "ops"), ("head", "department_head", "marketing"),
                  ("head_sales", "department_head", "sales"), ("com", "committee_member", "committee"),
                  ("ops", "operations", "ops"), ("intern", "intern", "marketing"), ("exec", "executive", "board"),
                  ("admin", "admin", "it")]


@pytest.fixture
def users(ctx: AppContext) -> dict[str, Actor]:
    return make_users(ctx, *STANDARD_USERS)


@pytest.fixture
def full_case() -> dict:
    import yaml

    return yaml.safe_load((FIXTURES / "case_full.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def cli(ctx: AppContext):
    """Invoke the real CLI in-process; returns (exit_code, stdout, stderr)."""
    from casebook.cli import app

    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        # English messages, whatever the acting user's locale (the tests below read them); tests of the
        # localised CLI (tests/test_errors_i18n.py) invoke it without this.
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False, env={"CASEBOOK_LOCALE": "en"})
        return result.exit_code, result.stdout, result.stderr

    return run


PASSING = {"authenticity": 4, "completeness": 4, "inspiration": 3, "operability": 4}  # all at or above 3


def open_task(ctx: AppContext, key: str) -> tuple[int, str, str | None]:
    """The case's live review task: (id, status, claimed_by)."""
    with ctx.engine.connect() as conn:
        row = conn.execute(text("SELECT id, status, claimed_by FROM review_tasks WHERE case_key = :k "
                                "AND status IN ('open', 'claimed')"), {"k": key}).one()
    return row.id, row.status, row.claimed_by


def decide(ctx: AppContext, actor: Actor, key: str, decision: str = "approve", **raw) -> str:
    """Claim the case's live task as ``actor`` (unless already held) and decide it (passing scores unless given)."""
    from review import decisions, queue

    task_id, status, holder = open_task(ctx, key)
    if not (status == "claimed" and holder == actor.username):
        queue.claim(ctx, actor, task_id)
    payload = {"decision": decision, **raw}
    if decision == "approve":
        payload.setdefault("scores", PASSING)
    return decisions.decide(ctx, actor, task_id, payload)


def query_plan(conn, stmt, *, indexed_by: str | None = None, forced: bool = False) -> str:
    """The database's own plan for ``stmt``, its bound values passed through their types' bind processors:
    unforced, the plan the planner picks. SQLite: ``indexed_by`` names an index the statement must walk (SQLite
    refuses INDEXED BY an index that cannot answer it). PostgreSQL: ``forced`` turns sequential scans off, so an
    index shows up if it is provably usable, not merely cheap on a small table."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = {}
    for name, value in compiled.construct_params().items():
        bind = compiled.binds.get(name)
        fn = processor_of(bind, conn.dialect) if bind is not None else None
        params[name] = fn(value) if fn else value
    if conn.dialect.name == "sqlite":
        sql = compiled.string
        if indexed_by:
            table = stmt.get_final_froms()[0].name
            sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {indexed_by}", 1)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params[n] for n in compiled.positiontup))
        return "\n".join(str(row[-1]) for row in rows)
    if forced:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + compiled.string, params))

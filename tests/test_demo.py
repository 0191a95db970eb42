"""``casebook up --demo``: a library worth opening, built through the real services over two years.

One demo store per backend, built once (the load takes a while), then what a new user would look for: every
lifecycle state, all four libraries, three locales, versions, returns, ratings, access requests, a frozen account,
corrections, open work in every demo user's inbox, search results, and an audit chain that verifies.
"""

from __future__ import annotations

import json
import os
import uuid
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from casebook import store
from casebook.assembly import build_context
from casebook.core.clock import FixedClock
from casebook.core.settings import Settings
from casebook.core.textnorm import to_simplified
from casebook.core.users import Actor, get_user
from tests.conftest import PG_URL, TZ

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=TZ)
SIGN_INS = 8   # the documented demo users (README, docs/): each must find open work


def _demo_store(home: Path, url: str) -> Iterator[tuple[Any, dict]]:
    from casebook.demo import build

    settings = Settings(home=home, db_url=url, audit_key="demo-test-key", password_time_cost=1,
                        password_memory_kib=1024)
    ctx = build_context(settings=settings, clock=FixedClock(NOW, TZ))
    store.upgrade(ctx.engine)
    built = build(ctx)
    yield ctx, built
    ctx.close()


# One store per backend per test process, built once whatever order the tests run in (session scope; the
# PostgreSQL one in its own database, which the other tests' truncation never touches).
@pytest.fixture(scope="session")
def demo_store_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict]]:
    home = tmp_path_factory.mktemp("demo")
    yield from _demo_store(home, f"sqlite:///{home / 'casebook.db'}")


@pytest.fixture(scope="session")
def demo_store_postgresql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict]]:
    if not PG_URL:
        pytest.skip("CASEBOOK_TEST_PG_URL is not set: PostgreSQL tests skipped (.ci/run sets it when PostgreSQL answers)")
    name = f"casebook_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _demo_store(tmp_path_factory.mktemp("demo"), PG_URL.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _locale(document: dict[str, Any]) -> str:
    """The script a case is written in, read from its body: English, Simplified or Traditional Chinese."""
    body = "".join(document["body"].values())
    if body.isascii():
        return "en"
    return "zh-Hans" if to_simplified(body) == body else "zh-Hant"


def check_every_state_library_and_locale_is_there(demo) -> None:
    from lifecycle import states as S

    ctx, built = demo
    assert built["refusals"] == [] and built["mismatched"] == []      # every plan reached its state, no refusal
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT c.key, c.state, c.library, v.document FROM cases c JOIN case_versions v "
                                 "ON v.case_id = c.id AND v.number = 1")).all()
    assert len(rows) >= 60
    states = Counter(r.state for r in rows)
    # 'submitted' is passed through, never rested in: the default policy starts review when no pre-check blocks.
    assert ctx.policy.doc.review.auto_start_after_prechecks
    expected = {"draft": 5, "review_l1": 5, "review_l2": 4, "review_l3": 3, "returned": 3, "approved": 2,
                "scheduled": 3, "published": 27, "update_due": 5, "updating": 3, "pending_evaluation": 3,
                "retired": 2, "archived": 4, "withdrawn": 2, "rejected": 2}
    assert dict(states) == expected
    assert set(S.states(ctx.policy.max_review_levels)) - set(states) == {S.SUBMITTED}
    libraries = Counter(r.library for r in rows)
    assert set(libraries) == set(ctx.policy.doc.libraries) and min(libraries.values()) >= 12
    documents = [r.document if isinstance(r.document, dict) else json.loads(r.document) for r in rows]
    locales = Counter(_locale(d) for d in documents)
    assert set(locales) == {"zh-Hant", "zh-Hans", "en"} and min(locales.values()) >= 20


def check_history_has_versions_returns_ratings_requests_and_a_freeze(demo) -> None:
    ctx, _ = demo
    with ctx.engine.connect() as conn:
        def scalar(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        assert scalar("SELECT count(*) FROM cases WHERE current_version_no >= 3") >= 5       # updated cases
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.return_for_revision'") >= 8
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.resubmit'") >= 5
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.reject'") == 3
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.expire'") >= 8
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.renew'") == 1
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.flag_update'") >= 10
        assert scalar("SELECT count(*) FROM case_ratings") >= 100
        assert scalar("SELECT count(DISTINCT stars) FROM case_ratings") == 5
        assert scalar("SELECT count(*) FROM audit_events WHERE action = 'case.correction_request'") >= 4
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM access_requests GROUP BY status")).all())
        assert statuses.get("pending", 0) >= 2 and statuses.get("approved", 0) >= 1 and statuses.get("denied", 0) >= 1
        assert conn.execute(text("SELECT username FROM users WHERE frozen_reason IS NOT NULL")).scalars().all() \
            == ["demo_contractor"]
        assert scalar("SELECT count(*) FROM review_decisions") >= 150
        assert scalar("SELECT count(DISTINCT reviewer) FROM review_decisions") >= 5
        first = conn.execute(text("SELECT min(at) FROM audit_events WHERE action = 'case.create'")).scalar_one()
        first = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
        assert (NOW.replace(tzinfo=None) - first.replace(tzinfo=None)).days >= 750      # two years of history
        # Mail of the history went to the local sink during the load: nothing old is left to send later.
        assert scalar("SELECT count(*) FROM outbox WHERE status = 'dead'") == 0


def check_every_demo_user_has_open_work(demo) -> None:
    from casebook.demo import USERS
    from library.inbox import inbox

    ctx, _ = demo
    kinds: dict[str, set[str]] = {}
    with ctx.sessions() as session:
        actors = {name: Actor.of(get_user(session, name)) for name, *_ in USERS[:SIGN_INS]}
    for name, actor in actors.items():
        items = inbox(ctx, actor)
        assert items, f"{name} ({actor.role}) has an empty inbox"
        kinds[name] = {i.kind for i in items}
    assert {"submission", "resubmission", "update"} <= kinds["demo_author"] | kinds["demo_author2"]
    assert "correction" in kinds["demo_author"] and "correction" in kinds["demo_intern"]
    assert "review" in kinds["demo_spec"] and "review" in kinds["demo_com"]
    assert {"review", "access_request"} <= kinds["demo_head"]
    assert {"evaluation", "rectification", "frozen_account"} <= kinds["demo_ops"]
    assert "review" in kinds["demo_exec"]           # an overdue level-2 task its backup (executive) may take


def check_search_dashboard_and_ratings_have_something_to_show(demo) -> None:
    from casebook.demo import READERS
    from library.dashboard import figures, month_bounds, month_key, period, trends
    from library.search import search

    ctx, _ = demo
    with ctx.sessions() as session:
        head, exec_ = (Actor.of(get_user(session, n)) for n in ("demo_head", "demo_exec"))
    assert search(ctx, head, "").total >= 15
    assert search(ctx, exec_, "").total >= 40
    assert search(ctx, exec_, "coffee").total + search(ctx, exec_, "咖啡").total >= 1       # words in either script
    shown = figures(ctx)
    assert shown["overdue_submissions"] >= 1 and shown["stale"] >= 5 and shown["overdue_reviews"] >= 1
    assert sum(shown["ratings"].values()) >= 100 and shown["cycle_hours_by_level"]
    # the usage charts too: a year of searches, the monthly survey (this month partly answered), reuse marks
    assert sum(shown["reuse_by_outcome"].values()) >= 5
    year = trends(ctx, 12)
    assert all(n >= 5 for n in year["searches"][:-1]) and all(v is not None for v in year["search_ms_avg"][:-1])
    assert sum(1 for v in year["nps"] if v is not None) >= 11
    now = period(ctx, *month_bounds(ctx, month_key(ctx.clock.now(), ctx)))
    assert 0 < now["nps_answers"] < len(READERS)


def check_the_audit_chain_verifies_after_loading(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    from casebook.cli import app

    ctx, _ = demo
    monkeypatch.setenv("CASEBOOK_HOME", str(ctx.settings.home))
    monkeypatch.setenv("CASEBOOK_DB_URL", ctx.settings.database_url)
    monkeypatch.setenv("CASEBOOK_AUDIT_KEY", "demo-test-key")
    result = CliRunner().invoke(app, ["audit", "verify", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    parts = json.loads(result.stdout)["parts"]
    assert all(p["ok"] for p in parts) and sum(p["checked"] for p in parts) > 1000


def check_demo_loads_once_and_its_texts_are_deterministic(demo) -> None:
    from casebook.demo import DAYS, SEED, _plans, build, load_demo

    ctx, _ = demo
    assert load_demo(ctx) == "already loaded" and build(ctx) is None
    first = [p.story.document(library=p.library, classification=p.classification, department=p.department,
                              owner=p.author, project_end=NOW.date()) for p in _plans(random.Random(SEED), DAYS)]
    again = [p.story.document(library=p.library, classification=p.classification, department=p.department,
                              owner=p.author, project_end=NOW.date()) for p in _plans(random.Random(SEED), DAYS)]
    assert first == again and len({d["title"] for d in first}) >= 60          # seeded, and varied


CHECKS = [check_every_state_library_and_locale_is_there, check_history_has_versions_returns_ratings_requests_and_a_freeze,
          check_every_demo_user_has_open_work, check_search_dashboard_and_ratings_have_something_to_show,
          check_demo_loads_once_and_its_texts_are_deterministic]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_demo_library(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check on one store per backend: one test each, so parallel workers never build the same store twice
    (the build is the expensive part; a failing check is named in the traceback)."""
    demo = request.getfixturevalue(f"demo_store_{backend}")
    for check in CHECKS:
        check(demo)
    check_the_audit_chain_verifies_after_loading(demo, monkeypatch)

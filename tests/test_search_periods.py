"""PostgreSQL's search window (``search._pg_window``): walking the newest id periods first, then the rest, gives
exactly the ids one ordered query over the whole index gives; and the queries it makes are served by the GIN index
that migration 0022 builds (its expression said exactly as the index says it, and ``ORDER BY id + 0`` leaving the
planner no primary-key walk to prefer). SQLite's FTS5 walks rowids in order itself: nothing of this applies."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select, text

from library import index, search
from library.index import ENTRIES, index_key
from library.models import GIN_INDEX
from tests.web_helpers import people, published_case

MIGRATION = Path(search.__file__).resolve().parents[1] / "casebook/migrations/versions/0022_h_pgsearch15_gin_periods.py"


def _migration():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("migration_0022", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_indexes_what_search_queries() -> None:
    assert _migration().INDEXED == index.INDEXED_TSV == index.indexed_tsv(index.PERIOD_BITS)


def _expression(ctx, conn, actor, query: str, tags: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    words = search.terms(query) if query else []
    node = search._word_groups(index_key(ctx.audit.key), words) if words else None
    return search._visible(ctx, actor, search._all(node, search._audience(ctx, conn, actor),
                                                    *search._fact_filters(search.Filters(), tags)))


def test_the_period_walk_gives_what_one_ordered_query_gives(ctx, full_case, monkeypatch) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's window only")
    users = people(ctx)
    for industry in ("retail", "catering", "retail", "education", "retail", "catering"):
        published_case(ctx, users, full_case | {"tags": {"industry": [industry]}}, "public")
    # periods of two ids (the index itself has periods of 4,096: the expression is evaluated row by row here)
    monkeypatch.setattr(search, "PERIOD_BITS", 1)
    monkeypatch.setattr(search, "INDEXED_TSV", index.indexed_tsv(1))
    monkeypatch.setattr(search, "FIRST_PERIODS", 1)
    monkeypatch.setattr(search, "MAX_PERIODS", 5)
    reader = users["intern"]
    with ctx.engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM search_entries")).scalar()
        assert top >> 1 > 5  # more periods than MAX_PERIODS: both kinds of step run
        for query, tags in (("", None), ("快閃店", None), ("", {"industry": "retail"}), ("快閃店", {"industry": "catering"}),
                            ("nowhere", None)):
            expression = _expression(ctx, conn, reader, query, tags)
            everything = [i for (i,) in conn.execute(
                text("SELECT id FROM search_entries WHERE tsv @@ to_tsquery('simple', :q) ORDER BY id DESC"),
                {"q": search._render(expression, "postgresql")})]
            assert bool(everything) == (query != "nowhere")
            for need in range(1, len(everything) + 3):
                assert search._pg_window(conn, expression, need) == everything[:need], (query, tags, need)


def test_the_window_queries_are_served_by_the_gin_index(ctx, full_case) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's window only")
    users = people(ctx)
    published_case(ctx, users, full_case, "public")
    with ctx.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: without this a scan of it is cheapest
        expression = _expression(ctx, conn, users["intern"], "快閃店")
        for node in (expression, search._all(expression, search._tok(index.period_token(0)))):
            stmt = select(ENTRIES.c.id).where(search._pg_match(node)).order_by((ENTRIES.c.id + 0).desc()).limit(5)
            compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert GIN_INDEX in plan and "Index Scan Backward" not in plan, plan
            assert conn.execute(stmt).all()  # and it finds the case

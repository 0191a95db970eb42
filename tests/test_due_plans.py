"""Due work at scale: on a skewed store (50,000 cases, 1 % due for each job, statistics refreshed as the store
does after migrations and bulk loads), every due-work statement's UNFORCED plan walks the job's index in
(due time, id) order: no table scan, no primary-key walk, no sort of the due set, on SQLite and PostgreSQL.
The first batch and a keyset continuation are both checked, and the walk returns exactly the due set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bench.due_store import NOW, build
from lifecycle.jobs import (CASES, approved_due, batch_statement, claim_statement, past_validity, scheduled_due, stale_due,
                            submission_due_by)
from lifecycle.service import CaseService
from notifications.delivery import pick_statement
from review.due import due_horizon, due_tasks_statement
from tests.conftest import query_plan

pytestmark = pytest.mark.slow
CASES_N = 50_000
BATCH = 200


@pytest.fixture
def skewed(ctx):
    return build(ctx, CASES_N, versions=False)   # refreshes the statistics, as every bulk load must


def _walks(conn, stmt, index: str, table: str) -> None:
    plan = query_plan(conn, stmt)
    if conn.dialect.name == "sqlite":
        assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
        assert f"SCAN {table}\n" not in plan + "\n" and "PRIMARY KEY" not in plan.split("\n")[0], plan
        assert "TEMP B-TREE" not in plan, plan                      # no sort: index order is batch order
    else:
        assert index in plan, plan
        assert "Seq Scan" not in plan.split("Nested Loop")[0] and "Sort" not in plan, plan


def test_every_job_walks_its_index_unforced_on_a_skewed_store(ctx, skewed) -> None:
    now = NOW
    dues = [submission_due_by(now + timedelta(days=8)), past_validity(now), stale_due(ctx.policy, now),
            approved_due(), scheduled_due()]
    with ctx.engine.begin() as conn:
        for due in dues:
            first = conn.execute(batch_statement(due, None, BATCH)).all()
            assert len(first) == BATCH, due.index
            _walks(conn, batch_statement(due, None, BATCH), due.index, "cases")
            _walks(conn, batch_statement(due, tuple(first[-1]), BATCH), due.index, "cases")
            # The batch's rows are claimed by primary key, never through a due index.
            claim = query_plan(conn, claim_statement(conn, due, [r.id for r in first]))
            assert ("INTEGER PRIMARY KEY" if conn.dialect.name == "sqlite" else "pk_cases") in claim, claim
            assert conn.execute(claim_statement(conn, due, [r.id for r in first])).all().__len__() == BATCH
            # The keyset walk visits the whole due set once, in order.
            seen, key = [], None
            while rows := conn.execute(batch_statement(due, key, BATCH)).all():
                seen += [tuple(r) for r in rows]
                key = seen[-1]
            assert seen == sorted(seen) and len(set(seen)) == len(seen)
            assert {i for _, i in seen} == set(conn.execute(select(CASES.c.id).where(due.where)).scalars())
            assert len(seen) >= skewed.due["expiry"], due.index

        # A batch's transitions are one UPDATE that finds its rows by primary key.
        due = past_validity(now)
        rows = conn.execute(claim_statement(conn, due, [r.id for r in conn.execute(batch_statement(due, None, BATCH))]))
        service = CaseService(ctx)
        decided = []
        for case in rows:
            outcome = service._try(conn, case, "expire", None, {})
            decided.append((case, outcome, {"state": outcome.dest}, {}))
        update = query_plan(conn, service._batch_update(decided, now))
        assert ("INTEGER PRIMARY KEY" if conn.dialect.name == "sqlite" else "pk_cases") in update, update

        horizon = due_horizon(ctx.policy, ctx.calendar, now)
        tasks = conn.execute(due_tasks_statement(horizon, None, BATCH)).all()
        assert len(tasks) == BATCH
        _walks(conn, due_tasks_statement(horizon, None, BATCH), "ix_review_tasks_live", "review_tasks")
        _walks(conn, due_tasks_statement(horizon, tuple(tasks[-1]), BATCH), "ix_review_tasks_live", "review_tasks")
        _walks(conn, pick_statement(conn, now, BATCH), "ix_outbox_due", "outbox")

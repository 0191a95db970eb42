"""Set-based due work: a batch's transitions are one UPDATE and their audit events one INSERT, one transaction per
batch; jobs running at the same time still move each due case exactly once, write one audit event per
transition, queue each notification once, and leave a chain that verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import event, text

from bench.due_store import NOW, build
from casebook.core import audit
from flows.registry import JOBS

pytestmark = pytest.mark.slow
JOB_NAMES = ["expiry_audit", "staleness_audit", "publish_approved", "monthly_publish", "submission_reminders",
             "review_escalations"]


@pytest.fixture
def store(ctx):
    ctx.clock.current = NOW
    return build(ctx, 2_000, share=0.15)   # 300 due per job: two batches of the policy's 200 (a version per case: publishing indexes it)


def _statements(ctx, job: str) -> Counter[str]:
    seen: Counter[str] = Counter()

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        head = " ".join(statement.split()[:3]).upper()
        for kind in ("UPDATE CASES", "INSERT INTO AUDIT_EVENTS", "INSERT INTO OUTBOX", "INSERT INTO WORK_ITEMS"):
            if head.startswith(kind):
                seen[kind] += 1

    event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        JOBS[job](ctx)
    finally:
        event.remove(ctx.engine, "before_cursor_execute", count)
    return seen


def test_a_batch_is_one_update_one_audit_insert_one_outbox_insert(ctx, store) -> None:
    counts = _statements(ctx, "expiry_audit")
    batches = -(-store.due["expiry"] // ctx.policy.doc.notifications.batch_size)
    assert counts["UPDATE CASES"] == batches and counts["INSERT INTO AUDIT_EVENTS"] == batches, counts
    assert counts["INSERT INTO OUTBOX"] == batches and counts["INSERT INTO WORK_ITEMS"] == batches, counts
    with ctx.engine.connect() as conn:
        expired = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'case.expire'")).scalar_one()
        left = conn.execute(text("SELECT count(*) FROM cases WHERE state IN ('published', 'update_due') "
                                 "AND expires_at <= :now"), {"now": NOW.replace(tzinfo=None)}).scalar_one()
    assert expired == store.due["expiry"] and left == 0


def test_concurrent_job_runs_move_each_case_once_and_keep_the_chain(ctx, store) -> None:
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run(order: list[str]) -> None:
        barrier.wait()
        try:
            for name in order:
                JOBS[name](ctx)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(JOB_NAMES[i:] + JOB_NAMES[:i],)) for i in (0, 2, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with ctx.engine.connect() as conn:
        per_case = Counter(conn.execute(text("SELECT action, subject_id FROM audit_events "
                                             "WHERE subject_type = 'case'")).all())
        actions = Counter(action for action, _ in per_case)
        kinds = Counter(conn.execute(text("SELECT kind FROM outbox WHERE status = 'pending'")).scalars())
        work = conn.execute(text("SELECT count(*) FROM work_items")).scalar_one()
    assert max(per_case.values()) == 1                               # no case moved twice by the same event
    due = store.due["expiry"]
    assert actions["case.release"] >= due, actions       # plus those publish_approved scheduled before it ran
    assert actions["case.expire"] == actions["case.flag_update"] == actions["case.publish"] == due, actions
    assert work == due
    # Expiry tells the three operations users and the owner; staleness the owner (who is the author here).
    assert kinds["expiry_evaluation"] == 4 * due and kinds["stale_case"] == due, kinds
    with ctx.sessions() as session:
        result = audit.verify(session, ctx.audit.key)
    assert result.ok, result

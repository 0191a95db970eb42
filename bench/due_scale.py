"""Due work at library scale: the same due set walked at 100,000 and 1,000,000 cases, 1 % due walked and applied,
on SQLite and PostgreSQL, and review claims with 1, 2, 4 and 8 workers on PostgreSQL.

Stores come from ``bench.due_store`` (bulk inserts into the project's schema, 1 % due for each job, disjoint due
sets), built once per size as a template (a SQLite file, a PostgreSQL template database) and reused by later runs;
every full job run gets a fresh copy. Printed side by side:

- walk: each job's keyset batches (index walk + claim by primary key, a transaction per batch, no action) over
  the first 1,000 due rows (the same due set at both sizes) and over the whole 1 % due set; next to the latter
  the statement shape these jobs used before (due predicate, ``id > last ORDER BY id``, whole rows) on the same
  store, schema and statistics.
- jobs: every job run in full on a copy (transitions, audit events, outbox rows, work items), cases/s.
- claims (PostgreSQL): ``review.queue.claim_next`` by 1, 2, 4 and 8 processes, claims/s and the ratio to one.

Usage:
  python bench/due_scale.py --sizes 100000 1000000 --store-dir /tmp/due-stores \\
      --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--backends sqlite postgresql] [--claims 800]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CASEBOOK_AUDIT_KEY", "bench")

from sqlalchemy import create_engine, select, text  # noqa: E402

from bench.due_store import NOW, TZ, build  # noqa: E402
from casebook import store  # noqa: E402
from casebook.assembly import build_context  # noqa: E402
from casebook.core.audit import GENESIS  # noqa: E402
from casebook.core.clock import FixedClock  # noqa: E402
from casebook.core.context import AppContext  # noqa: E402
from casebook.core.db import refresh_statistics  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from lifecycle import jobs  # noqa: E402
from lifecycle.jobs import CASES, DueSet, batch_statement, claim_statement  # noqa: E402
from bench.review_queue import claims_per_second  # noqa: E402
from review.escalations import review_escalations  # noqa: E402

SAME = 1_000
JOBS = {"submission_reminders": jobs.submission_reminders, "expiry_audit": jobs.expiry_audit,
        "staleness_audit": jobs.staleness_audit, "publish_approved": jobs.publish_approved,
        "monthly_publish": jobs.monthly_publish, "review_escalations": review_escalations}


def context(url: str) -> AppContext:
    return build_context(settings=Settings(home=Path(tempfile.mkdtemp(prefix="cb-due-")), db_url=url,
                                           audit_key="bench"), clock=FixedClock(NOW, TZ))


def due_sets(ctx: AppContext) -> dict[str, DueSet]:
    horizon = NOW + timedelta(days=max(ctx.policy.doc.deadlines.submission.reminder_offsets_days) + 1)
    return {"submission_reminders": jobs.submission_due_by(horizon), "expiry_audit": jobs.past_validity(NOW),
            "staleness_audit": jobs.stale_due(ctx.policy, NOW), "publish_approved": jobs.approved_due(),
            "monthly_publish": jobs.scheduled_due()}


# -- stores -------------------------------------------------------------------------------------------------------

def admin_url(pg_url: str, name: str) -> str:
    return pg_url.rsplit("/", 1)[0] + "/" + name


def _pg_exists(pg_url: str, name: str) -> bool:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
    admin.dispose()
    return found


def _pg(pg_url: str, sql: str) -> None:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(sql)
    admin.dispose()


def template(backend: str, size: int, store_dir: Path, pg_url: str | None) -> str:
    """The template store for this size (built on first use, upgraded and re-analysed when reused)."""
    if backend == "sqlite":
        path = store_dir / f"due_{size}.db"
        url, fresh = f"sqlite:///{path}", not path.exists()
    else:
        name = f"due_tpl_{size}"
        url, fresh = admin_url(pg_url or "", name), not _pg_exists(pg_url or "", name)
        if fresh:
            _pg(pg_url or "", f'CREATE DATABASE "{name}"')
    ctx = context(url)
    store.upgrade(ctx.engine)
    if fresh:
        t0 = time.perf_counter()
        build(ctx, size)
        print(f"  built {backend} {size:,} cases in {time.perf_counter() - t0:.0f} s")
    else:   # the audit chain's shard heads are made by their first append
        refresh_statistics(ctx.engine)
    ctx.close()
    return url


def copy(backend: str, url: str, pg_url: str | None, tag: str) -> str:
    if backend == "sqlite":
        src = Path(url.split("///", 1)[1])
        dst = Path(tempfile.mkdtemp(prefix="cb-due-run-")) / "run.db"
        shutil.copyfile(src, dst)
        return f"sqlite:///{dst}"
    name = f"due_run_{tag}_{os.getpid()}"
    _pg(pg_url or "", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(pg_url or "", f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
    return admin_url(pg_url or "", name)


def drop(backend: str, url: str, pg_url: str | None) -> None:
    if backend == "sqlite":
        shutil.rmtree(Path(url.split("///", 1)[1]).parent, ignore_errors=True)
    else:
        _pg(pg_url or "", f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


# -- measurements -------------------------------------------------------------------------------------------------

def walk(ctx: AppContext, due: DueSet, limit: int) -> tuple[float, int, float]:
    """Seconds to walk the first ``limit`` rows of the due set as the jobs do (index walk, claim by primary key,
    a transaction per batch), doing nothing with them; and the CPU seconds of this process meanwhile (SQLite
    works in-process, so that is its whole cost, without the waits other processes on the machine cause)."""
    size = ctx.policy.doc.notifications.batch_size
    after, seen = None, 0
    t0, c0 = time.perf_counter(), time.process_time()
    while seen < limit:
        with ctx.engine.begin() as conn:
            walked = conn.execute(batch_statement(due, after, min(size, limit - seen))).all()
            if not walked:
                break
            after = tuple(walked[-1])
            seen += len(conn.execute(claim_statement(conn, due, [r[1] for r in walked])).all())
    return time.perf_counter() - t0, seen, time.process_time() - c0


def pk_walk(ctx: AppContext, due: DueSet, limit: int) -> tuple[float, int]:
    """The statement shape before this change: the due predicate in id order (``id > last``), whole rows."""
    size = ctx.policy.doc.notifications.batch_size
    last, seen = 0, 0
    t0 = time.perf_counter()
    while seen < limit:
        with ctx.engine.begin() as conn:
            stmt = select(CASES).where(due.where, CASES.c.id > last).order_by(CASES.c.id).limit(min(size, limit - seen))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = conn.execute(stmt).all()
            if not rows:
                break
            last, seen = rows[-1].id, seen + len(rows)
    return time.perf_counter() - t0, seen


def best(fn: Any, *args: Any, runs: int = 3) -> tuple[float, int]:
    results = [fn(*args) for _ in range(runs)]
    return min(r[0] for r in results), results[0][1]



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--store-dir", type=Path, default=Path(tempfile.gettempdir()) / "casebook-due-stores")
    parser.add_argument("--pg-url", default=os.environ.get("CASEBOOK_TEST_PG_URL"))
    parser.add_argument("--claims", type=int, default=800, help="claims per measurement (split across workers)")
    parser.add_argument("--skip-jobs", action="store_true")
    args = parser.parse_args()
    args.store_dir.mkdir(parents=True, exist_ok=True)
    backends = [b for b in args.backends if b == "sqlite" or args.pg_url]
    walks: dict[tuple[str, int, str], tuple[float, float, float, int, float]] = {}
    for backend in backends:
        urls = {size: template(backend, size, args.store_dir, args.pg_url) for size in args.sizes}
        contexts = {size: context(url) for size, url in urls.items()}
        for name in due_sets(contexts[args.sizes[0]]):
            # Sizes alternate run by run (best of nine each), so a busy moment on the machine hits both alike.
            same: dict[int, list[float]] = {size: [] for size in args.sizes}
            cpu: dict[int, list[float]] = {size: [] for size in args.sizes}
            for _ in range(9):
                for size, ctx in contexts.items():
                    took, _, used = walk(ctx, due_sets(ctx)[name], SAME)
                    same[size].append(took)
                    cpu[size].append(used)
            for size, ctx in contexts.items():
                full, n = best(walk, ctx, due_sets(ctx)[name], 10**9)
                old, _ = best(pk_walk, ctx, due_sets(ctx)[name], 10**9, runs=1)
                walks[(backend, size, name)] = (min(same[size]), full, old, n, min(cpu[size]))
                print(f"  {backend:10s} {size:>9,}  walk {name:20s} first {SAME:,}: {min(same[size]) * 1000:7.1f} ms "
                      f"(cpu {min(cpu[size]) * 1000:5.1f} ms)"
                      f"  all {n:,} due: {full * 1000:7.1f} ms (id-order walk before: {old * 1000:8.1f} ms)")
        for ctx in contexts.values():
            ctx.close()
        for size, url in urls.items():
            print(f"== {backend}, {size:,} cases")
            if not args.skip_jobs:
                run_url = copy(backend, url, args.pg_url, str(size))
                run = context(run_url)
                for name, job in JOBS.items():
                    t0 = time.perf_counter()
                    counts = job(run)
                    took = time.perf_counter() - t0
                    # Cases (tasks) handled: those moved, or for the notice-only jobs the due set (1 %).
                    cases = size // 100 if name in ("submission_reminders", "review_escalations") else \
                        sum(counts.values())
                    with run.engine.connect() as conn:
                        queued = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one()
                    print(f"  job  {name:22s} {took:6.2f} s  {cases / took:6.0f} cases/s  {counts}  (outbox rows "
                          f"queued so far: {queued:,})")
                t0 = time.perf_counter()
                refresh_statistics(run.engine)
                print(f"  statistics refresh (nightly, after expiry_audit): {time.perf_counter() - t0:.1f} s")
                run.close()
                drop(backend, run_url, args.pg_url)
            if backend == "postgresql":
                run_url = copy(backend, url, args.pg_url, f"claims{size}")
                one = None
                for workers in (1, 2, 4, 8):
                    rate = claims_per_second(run_url, tempfile.mkdtemp(prefix="cb-due-"), workers,
                                             args.claims // workers, reviewer="spec")
                    one = one or rate
                    print(f"  claims, {workers} worker(s): {rate:6.0f}/s  ({rate / one:.2f}x one worker)")
                drop(backend, run_url, args.pg_url)
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        print(f"== {large:,} / {small:,} ratio of the same {SAME:,}-row walk (goal <= 1.5), and all due at {large:,}")
        for backend in backends:
            for name in dict.fromkeys(k[2] for k in walks):
                a, b = walks.get((backend, small, name)), walks.get((backend, large, name))
                if a and b:
                    print(f"  {backend:10s} {name:22s} {b[0] / a[0]:5.2f}x (cpu of this process {b[4] / a[4]:5.2f}x)   "
                          f"all {b[3]:,} due at {large:,}: {b[1]:.2f} s (goal < 2 s), before {b[2]:.2f} s")


if __name__ == "__main__":
    main()

"""Review queue: claims/s with 8 concurrent workers vs 1 (PostgreSQL), and queue listing time at 100,000 open tasks.

Usage: python bench/review_queue.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--tasks 100000]
Works on SQLite too (workers then serialise on the database's single writer).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from casebook import store  # noqa: E402
from casebook.core.clock import FixedClock  # noqa: E402
from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.core.users import Actor, add_user, get_user  # noqa: E402
from review import queue  # noqa: E402
from bench.scratch import scratch_store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 10, tzinfo=TZ)


def seed(ctx, n: int) -> None:
    """n cases, each with an open level-1 task, due times spread over 60 days."""
    naive = NOW.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM review_tasks"))
        conn.execute(text("DELETE FROM cases"))
        owner = conn.execute(text("SELECT id FROM users WHERE username = 'owner'")).scalar_one()
        rows = [{"key": f"CB-{i:07d}", "o": owner, "f": False, "now": naive, "dept": f"d{i % 20}"} for i in range(n)]
        conn.execute(text("INSERT INTO cases (key, title, state, review_level, reentry_level, review_round, library, "
                          "classification, department, owner_id, author_id, micro, current_version_no, "
                          "state_changed_at, policy_version, created_at, updated_at, row_version) VALUES "
                          "(:key, 'bench', 'review_l1', 1, 1, 1, 'enterprise_practice', 'internal', :dept, :o, :o, "
                          ":f, 1, :now, 'p', :now, :now, 1)"), rows)
        offset = "(id % 86400) * interval '1 minute'" if conn.dialect.name == "postgresql" else None
        if offset:
            conn.execute(text("INSERT INTO review_tasks (case_id, case_key, round, level, level_name, candidate_role, "
                              "status, created_at, due_at, policy_version) SELECT id, key, 1, 1, 'case_specialist', "
                              f"'case_specialist', 'open', :now, :now + {offset}, 'p' FROM cases"), {"now": naive})
        else:
            conn.execute(text("INSERT INTO review_tasks (case_id, case_key, round, level, level_name, candidate_role, "
                              "status, created_at, due_at, policy_version) SELECT id, key, 1, 1, 'case_specialist', "
                              "'case_specialist', 'open', :now, datetime(:now, '+' || (id % 86400) || ' minutes'), 'p' "
                              "FROM cases"), {"now": naive})
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE review_tasks"))
            conn.execute(text("ANALYZE cases"))
        else:
            conn.execute(text("ANALYZE"))


def worker(db_url: str, home: str, username: str, claims: int, start_at: float, out: "multiprocessing.Queue") -> None:
    os.environ["CASEBOOK_AUDIT_KEY"] = "bench"
    ctx = build_context(settings=Settings(home=Path(home), db_url=db_url), clock=FixedClock(NOW, TZ))
    with ctx.sessions() as s:
        actor = Actor.of(get_user(s, username))
    queue.claim_next(ctx, actor)  # warm-up: connection, statement cache
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.perf_counter()
    done = 0
    for _ in range(claims):
        if queue.claim_next(ctx, actor) is None:
            break
        done += 1
    out.put((done, time.perf_counter() - t0))
    ctx.close()


def claims_per_second(db_url: str, home: str, workers: int, claims_each: int, reviewer: str = "rev") -> float:
    """Claims/s of ``workers`` processes, the i-th claiming as user ``{reviewer}{i}`` (bench/due_scale.py too)."""
    mp = multiprocessing.get_context("spawn")
    out = mp.Queue()
    start_at = time.time() + 3.0
    procs = [mp.Process(target=worker, args=(db_url, home, f"{reviewer}{i}", claims_each, start_at, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    total = sum(done for done, _ in results)
    return total / max(elapsed for _, elapsed in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=2000, help="claims per measurement (split across workers)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8], help="worker counts, the first the base")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of all worker counts, interleaved")
    args = parser.parse_args()
    with scratch_store(args.db_url, "bench_q") as (url, home):
        run(args, url, home)


def run(args: argparse.Namespace, url: str, home: str) -> None:
    os.environ["CASEBOOK_AUDIT_KEY"] = "bench"
    ctx = build_context(settings=Settings(home=Path(home), db_url=url), clock=FixedClock(NOW, TZ))
    store.upgrade(ctx.engine)
    with ctx.sessions.begin() as s:
        add_user(s, ctx.policy, ctx.audit, NOW, actor="bench", username="owner", role="staff", department="d0")
        for i in range(8):
            add_user(s, ctx.policy, ctx.audit, NOW, actor="bench", username=f"rev{i}", role="case_specialist",
                     department="ops")
    print(f"backend: {ctx.engine.dialect.name}")
    t0 = time.perf_counter()
    seed(ctx, args.tasks)
    print(f"seeded {args.tasks:,} open tasks in {time.perf_counter() - t0:.1f} s")

    reviewer = Actor("rev0", "case_specialist", "ops", "internal", None)
    timings = []
    for _ in range(20):
        t = time.perf_counter()
        items = queue.list_queue(ctx, reviewer, limit=50)
        timings.append((time.perf_counter() - t) * 1000)
    print(f"queue listing at {args.tasks:,} open tasks: median {statistics.median(timings):.1f} ms, "
          f"max {max(timings):.1f} ms over 20 calls ({len(items)} rows; goal < 100 ms)")
    with ctx.engine.connect() as conn:
        plan_sql = ("SELECT id FROM review_tasks WHERE candidate_role = 'case_specialist' AND status = 'open' "
                    "ORDER BY due_at LIMIT 50")
        if conn.dialect.name == "postgresql":
            plan = [r[0] for r in conn.execute(text("EXPLAIN " + plan_sql))]
        else:
            plan = [r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + plan_sql))]
    print("plan: " + " | ".join(plan))

    # Worker counts alternate round by round, so a busy moment on the machine hits each alike.
    rates: dict[int, list[float]] = {w: [] for w in args.workers}
    for r in range(args.rounds):
        for workers in args.workers:
            rates[workers].append(claims_per_second(url, home, workers, args.claims // workers))
            print(f"round {r + 1}: {workers} worker(s) {rates[workers][-1]:,.0f} claims/s", flush=True)
    base = args.workers[0]
    for workers in args.workers:
        ratios = [a / b for a, b in zip(rates[workers], rates[base])]
        print(f"claims/s, {workers} worker(s): median {statistics.median(rates[workers]):,.0f} "
              f"(ratio to {base}: median of rounds {statistics.median(ratios):.2f}, "
              f"range {min(ratios):.2f}-{max(ratios):.2f})")
    ctx.close()


if __name__ == "__main__":
    main()

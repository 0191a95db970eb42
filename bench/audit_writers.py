"""Concurrent audit appends on PostgreSQL: one shard (the old single head row) against sharded chains.

Usage: python bench/audit_writers.py [--db-url URL] [--writers 8] [--seconds 10] [--hold-ms 2] [--shards 1,32]

Each writer thread appends audit events for its own cases, one per transaction, and keeps the transaction open
for --hold-ms after the append (standing in for the rest of a transition: listeners, outbox rows, the commit's
flush) before committing, as a transition holds its head row until commit. A sampler reads pg_stat_activity
every 20 ms and counts the writers' backends waiting on a lock. Runs alternate between shard counts.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.scratch import scratch_store  # noqa: E402
from casebook import store  # noqa: E402
from casebook.core import audit  # noqa: E402
from casebook.core.db import make_engine  # noqa: E402


def run(url: str, shards: int, writers: int, seconds: float, hold_ms: float) -> dict[str, float]:
    engine = make_engine(url, pool_size=writers + 2, connect_args={"application_name": "cb-audit-bench"})
    ctx = audit.AuditContext(key=b"k" * 32, policy_version="bench", shards=shards)
    stop = threading.Event()
    counts = [0] * writers
    samples = {"n": 0, "waiting": 0, "active": 0}

    def writer(i: int) -> None:
        n = 0
        while not stop.is_set():
            with engine.begin() as conn:
                audit.record(conn, ctx, at=datetime.now(timezone.utc), actor=f"w{i}", action="case.bench",
                             subject_type="case", subject_id=f"CB-{i:02d}{n:06d}", after={"state": "x"})
                conn.exec_driver_sql(f"SELECT pg_sleep({hold_ms / 1000})")
            n += 1
        counts[i] = n

    def sampler() -> None:
        with make_engine(url).connect() as conn:
            while not stop.is_set():
                rows = conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE application_name = "
                                         "'cb-audit-bench' AND state <> 'idle'")).all()
                samples["n"] += 1
                samples["active"] += len(rows)
                samples["waiting"] += sum(1 for r in rows if r.wait_event_type == "Lock")
                conn.rollback()
                time.sleep(0.02)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)] + [threading.Thread(target=sampler)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return {"appends_s": sum(counts) / elapsed, "waiting_share": samples["waiting"] / max(samples["active"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hold-ms", type=float, default=2)
    parser.add_argument("--shards", default="1,32")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with scratch_store(args.db_url, "auditw") as (url, _home):
        store.upgrade(make_engine(url))
        results: dict[int, list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for shards in (int(s) for s in args.shards.split(",")):
                for writers in (1, args.writers):
                    r = run(url, shards, writers, args.seconds, args.hold_ms)
                    results.setdefault((shards, writers), []).append(r)  # type: ignore[index]
                    print(f"shards {shards:>3}, writers {writers}: {r['appends_s']:7.0f} appends/s, "
                          f"{r['waiting_share']:.0%} of active writer backends waiting on a lock", flush=True)
    print()
    for (shards, writers), rs in sorted(results.items()):  # type: ignore[misc]
        if writers == 1:
            continue
        one = sum(r["appends_s"] for r in results[(shards, 1)]) / len(results[(shards, 1)])  # type: ignore[index]
        many = sum(r["appends_s"] for r in rs) / len(rs)
        wait = sum(r["waiting_share"] for r in rs) / len(rs)
        print(f"shards {shards}: {writers} writers / 1 writer = {many / one:.2f}x ({many:.0f} vs {one:.0f} appends/s), "
              f"lock waits {wait:.0%}")


if __name__ == "__main__":
    main()

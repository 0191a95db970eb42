"""Lifecycle throughput: N cases through a full lifecycle vs the raw single-row commit rate, in one run.

Usage: python bench/lifecycle.py [--cases N] [--db-url URL]
Both paths use the same engine and settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine  # noqa: E402

from casebook import store  # noqa: E402
from casebook.clock import FixedClock  # noqa: E402
from casebook.context import build_context  # noqa: E402
from casebook.db import make_engine  # noqa: E402
from casebook.settings import Settings  # noqa: E402
from casebook.users import Actor, add_user  # noqa: E402
from lifecycle.service import CaseService  # noqa: E402

CASE = {
    "title": "基準測試案例", "library": "industry_benchmark", "scenario": "brand_communication", "outcome": "success",
    "classification": "internal", "department": "marketing", "project_start": "2026-01-05",
    "project_end": "2026-03-01", "target_users": "白領", "budget": {"amount": 100000}, "channels": ["weibo"],
    "body": {"background": "背景", "goal": "目標", "strategy": "策略", "execution": "執行", "data": "數據",
             "reflection": "反思"},
    "metrics": [{"name": "曝光", "value": 1000, "source": "平台後台"}],
    "data_sources": [{"name": "平台後台", "validation_method": "截圖核對"}],
}
FLOW = [("alice", "submit", None), ("spec", "start_review", None), ("spec", "approve", None),
        ("head", "approve", None), ("com", "approve", None), ("ops", "publish", None),
        ("alice", "start_update", None), ("alice", "submit", None), ("spec", "start_review", None),
        ("spec", "approve", None), ("head", "approve", None), ("com", "approve", None), ("ops", "publish", None),
        ("sys", "expire", None), ("ops", "retire", "outdated"), ("ops", "archive", None)]


class RawCommits:
    """Single-row INSERT + COMMIT, one transaction each, on an engine configured exactly like ours."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        meta = MetaData()
        self.table = Table("bench_raw", meta, Column("id", Integer, primary_key=True), Column("v", String(32)))
        meta.drop_all(self.engine)
        meta.create_all(self.engine)
        self.meta = meta

    def run(self, n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            with self.engine.begin() as conn:
                conn.execute(self.table.insert(), {"v": f"row-{i}"})
        return time.perf_counter() - start

    def run_orm(self, n: int) -> float:
        """The same rows through an ORM session (add + commit), for context."""
        from sqlalchemy.orm import Session, registry

        reg = registry()
        row_cls = type("RawRow", (), {})
        reg.map_imperatively(row_cls, self.table)
        start = time.perf_counter()
        for i in range(n):
            with Session(self.engine) as session, session.begin():
                obj = row_cls()
                obj.v = f"orm-{i}"
                session.add(obj)
        elapsed = time.perf_counter() - start
        reg.dispose()
        return elapsed

    def close(self) -> None:
        self.meta.drop_all(self.engine)
        self.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cb-bench-")
    url = args.db_url or f"sqlite:///{tmp}/bench.db"
    scratch = None
    if url.startswith("postgresql"):
        # A scratch database of our own: the given one is only used to create and drop it.
        scratch = f"casebook_bench_{os.getpid()}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        url = url.rsplit("/", 1)[0] + "/" + scratch
    os.environ["CASEBOOK_AUDIT_KEY"] = "bench"
    tz = ZoneInfo("Asia/Shanghai")
    settings = Settings(home=Path(tmp), db_url=url)
    ctx = build_context(settings=settings, clock=FixedClock(datetime(2026, 4, 1, 10, tzinfo=tz), tz))
    store.upgrade(ctx.engine)
    actors: dict[str, Actor] = {"sys": Actor.system()}
    with ctx.sessions.begin() as s:
        for name, role, dept in [("alice", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                                 ("head", "department_head", "marketing"), ("com", "committee_member", "c"),
                                 ("ops", "operations", "ops")]:
            actors[name] = Actor.of(add_user(s, ctx.policy, ctx.audit, ctx.clock.now(), actor="bench",
                                             username=name, role=role, department=dept))
    svc = CaseService(ctx)
    keys = [svc.create(actors["alice"], CASE) for _ in range(args.cases)]
    raw = RawCommits(url)
    raw.run(50)  # warm-up
    # Interleave the two paths in rounds so machine noise hits both alike; report totals and the median ratio.
    rounds = max(1, min(args.rounds, len(keys)))
    ours_time = raw_time = 0.0
    transitions = 0
    ratios = []
    for r in range(rounds):
        batch = keys[r::rounds]
        start = time.perf_counter()
        for key in batch:
            for who, event, reason in FLOW:
                svc.fire(actors[who], key, event, reason=reason)
        t_ours = time.perf_counter() - start
        n = len(batch) * len(FLOW)
        t_raw = raw.run(n)
        ours_time, raw_time, transitions = ours_time + t_ours, raw_time + t_raw, transitions + n
        ratios.append((n / t_ours) / (n / t_raw))
    orm_rate = min(transitions, 2000) / raw.run_orm(min(transitions, 2000))
    raw.close()
    ours, raw_rate = transitions / ours_time, transitions / raw_time
    print(f"backend: {ctx.engine.dialect.name}")
    print(f"cases: {args.cases}, transitions: {transitions}, rounds: {rounds}")
    print(f"our transition path: {ours:,.0f} transitions/s (state machine + versioned row update + hash-chained audit)")
    print(f"raw single-row commits (Core insert + commit): {raw_rate:,.0f} commits/s")
    print(f"ORM single-row commits (session add + commit): {orm_rate:,.0f} commits/s")
    print(f"ratio ours/raw: {ours / raw_rate:.2f} overall, {statistics.median(ratios):.2f} median of rounds "
          f"(goal >= 0.50); ours/ORM single-row: {ours / orm_rate:.2f}")
    ctx.close()
    if scratch:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()

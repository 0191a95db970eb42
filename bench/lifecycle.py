"""Lifecycle throughput: N cases through a full lifecycle vs the raw single-row commit rate, in one run.

Usage: python bench/lifecycle.py [--cases N] [--db-url URL]
Both paths use the same engine and settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Integer, MetaData, String, Table  # noqa: E402

from casebook import store  # noqa: E402
from casebook.clock import FixedClock  # noqa: E402
from casebook.context import build_context  # noqa: E402
from casebook.db import make_engine  # noqa: E402
from casebook.settings import Settings  # noqa: E402
from casebook.users import Actor, add_user  # noqa: E402
from lifecycle.service import CaseService  # noqa: E402
from review import decisions, queue  # noqa: E402
from bench.scratch import scratch_store  # noqa: E402

CASE = {
    "title": "基準測試案例", "library": "industry_benchmark", "scenario": "brand_communication", "outcome": "success",
    "classification": "internal", "department": "marketing", "project_start": "2026-01-05",
    "project_end": "2026-03-01", "target_users": "白領", "budget": {"amount": 100000}, "channels": ["weibo"],
    "body": {"background": "背景", "goal": "目標", "strategy": "策略", "execution": "執行", "data": "數據",
             "reflection": "反思"},
    "metrics": [{"name": "曝光", "value": 1000, "source": "平台後台"}],
    "data_sources": [{"name": "平台後台", "validation_method": "截圖核對"}],
}
# ("review", who) claims the case's task and approves it with passing scores (claim + decide transactions).
FLOW = [("alice", "submit", None), ("review", "spec"), ("review", "head"), ("review", "com"),
        ("ops", "publish", None), ("alice", "start_update", None), ("alice", "submit", None), ("review", "spec"),
        ("review", "head"), ("review", "com"), ("ops", "publish", None), ("sys", "expire", None),
        ("ops", "retire", "outdated"), ("ops", "archive", None)]
#: State changes per case: each submit also starts review automatically after the pre-checks.
TRANSITIONS_PER_CASE = 16
PASSING = {"authenticity": 4, "completeness": 4, "inspiration": 3, "operability": 4}


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
    with scratch_store(args.db_url, "bench_l") as (url, tmp):
        run(args, url, tmp)


def run(args: argparse.Namespace, url: str, tmp: str) -> None:
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
    ours_time = raw_time = fire_time = 0.0
    transitions = fires = 0
    ratios, plain_ratios = [], []
    per_event: dict[str, list[float]] = {}
    for r in range(rounds):
        batch = keys[r::rounds]
        round_fires, round_fire_time = fires, fire_time
        start = time.perf_counter()
        for key in batch:
            for step in FLOW:
                if step[0] == "review":
                    actor = actors[step[1]]
                    task = queue.claim_next(ctx, actor)
                    decisions.decide(ctx, actor, task, {"decision": "approve", "scores": PASSING})
                else:
                    who, event, reason = step
                    t = time.perf_counter()
                    svc.fire(actors[who], key, event, reason=reason)
                    spent = time.perf_counter() - t
                    per_event.setdefault(event, []).append(spent)
                    if event != "submit":
                        fire_time += spent
                        fires += 1
        t_ours = time.perf_counter() - start
        n = len(batch) * TRANSITIONS_PER_CASE
        t_raw = raw.run(n)
        ours_time, raw_time, transitions = ours_time + t_ours, raw_time + t_raw, transitions + n
        ratios.append((n / t_ours) / (n / t_raw))
        plain_ratios.append(((fires - round_fires) / (fire_time - round_fire_time)) / (n / t_raw))
    orm_rate = min(transitions, 2000) / raw.run_orm(min(transitions, 2000))
    raw.close()
    ours, raw_rate, fire_rate = transitions / ours_time, transitions / raw_time, fires / fire_time
    print(f"backend: {ctx.engine.dialect.name}")
    print(f"cases: {args.cases}, transitions: {transitions}, rounds: {rounds}")
    print(f"full lifecycle path: {ours:,.0f} transitions/s (incl. pre-checks on submit, review claims and "
          f"decisions with rubric)")
    print(f"plain transitions (publish, start_update, expire, retire, archive): {fire_rate:,.0f} transitions/s "
          f"(state machine + versioned row update + hash-chained audit + listeners)")
    print("mean ms per event: " + ", ".join(f"{e} {1000 * sum(v) / len(v):.2f}" for e, v in per_event.items()))
    print(f"raw single-row commits (Core insert + commit): {raw_rate:,.0f} commits/s")
    print(f"ORM single-row commits (session add + commit): {orm_rate:,.0f} commits/s")
    print(f"ratio plain transitions/raw: {fire_rate / raw_rate:.2f} overall, "
          f"{statistics.median(plain_ratios):.2f} median of rounds (goal >= 0.50)")
    print(f"ratio full path/raw: {ours / raw_rate:.2f} overall, {statistics.median(ratios):.2f} median of rounds")
    ctx.close()


if __name__ == "__main__":
    main()

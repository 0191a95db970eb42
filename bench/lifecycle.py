"""Lifecycle throughput: N cases through a full lifecycle vs the raw single-row commit rate, in one run.

Usage: python bench/lifecycle.py [--cases N] [--rounds R] [--steady M] [--cache-effect N] [--db-url URL]
Both paths use the same engine and settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Integer, MetaData, String, Table  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from casebook import store  # noqa: E402
from casebook.assembly import build_context
from casebook.core.context import AppContext  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.core.users import Actor, add_user  # noqa: E402
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
#: The steady loop: plain transitions an approved case goes through, and how many cases share one chunk.
STEADY_STEPS = [("ops", "publish", None), ("sys", "expire", None), ("ops", "retire", "outdated"),
                ("ops", "archive", None)]
STEADY_CHUNK = 25


class RunningClock:
    """Time that starts at a fixed instant and runs: every call is a new moment, as with the system clock
    (a fixed clock would hand every transition the same object and flatter anything that caches by value)."""

    def __init__(self, start: datetime) -> None:
        self.tz, self.start, self.t0 = start.tzinfo, start, time.perf_counter()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.perf_counter() - self.t0)


class RawCommits:
    """Single-row INSERT + COMMIT, one transaction each, on our own engine (the same pooled connection, so neither
    path's writes make the other's connection drop its page cache)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steady", type=int, default=200, help="cases for the steady plain-transition loop")
    parser.add_argument("--cache-effect", type=int, default=0, metavar="N",
                        help="also time N raw commits and N publishes warm and after a cache-evicting workload")
    args = parser.parse_args()
    with scratch_store(args.db_url, "bench_l") as (url, tmp):
        run(args, url, tmp)


def review(ctx: AppContext, actors: dict[str, Actor], who: str) -> None:
    """Claim the next task for ``who`` and approve it with passing scores (two transactions)."""
    task = queue.claim_next(ctx, actors[who])
    decisions.decide(ctx, actors[who], task, {"decision": "approve", "scores": PASSING})


def approved(ctx: AppContext, svc: CaseService, actors: dict[str, Actor], count: int) -> list[str]:
    """``count`` new cases taken through submit and three review levels (untimed)."""
    keys = [svc.create(actors["alice"], CASE) for _ in range(count)]
    for key in keys:
        svc.fire(actors["alice"], key, "submit")
        for who in ("spec", "head", "com"):
            review(ctx, actors, who)
    return keys


def steady(ctx: AppContext, svc: CaseService, actors: dict[str, Actor], raw: RawCommits, count: int) -> list[float]:
    """Approved cases taken through publish, expire, retire and archive in chunks, each chunk followed (or preceded,
    alternately) by as many raw commits: both paths run back to back, warm, under the same conditions."""
    keys = approved(ctx, svc, actors, count)
    ratios = []
    for i, start in enumerate(range(0, count, STEADY_CHUNK)):
        chunk = keys[start:start + STEADY_CHUNK]
        n = len(chunk) * len(STEADY_STEPS)
        t_raw = raw.run(n) if i % 2 else 0.0
        t = time.perf_counter()
        for who, event, reason in STEADY_STEPS:
            for key in chunk:
                svc.fire(actors[who], key, event, reason=reason)
        t_ours = time.perf_counter() - t
        t_raw = t_raw or raw.run(n)
        ratios.append(t_raw / t_ours)
    return ratios


def cache_effect(ctx: AppContext, svc: CaseService, actors: dict[str, Actor], raw: RawCommits,
                 count: int) -> dict[str, tuple[float, float]]:
    """Median ms of one raw commit and one publish, each right after nothing or after a throw-away Python workload
    that evicts the CPU caches: what running amid other work costs either path."""
    keys = approved(ctx, svc, actors, 2 * count)
    out = {}
    for name, workload in (("warm", None), ("after other work", lambda: sorted(str(i) * 3 for i in range(20000)))):
        raw_ms, publish_ms = [], []
        for key in keys[:count] if workload is None else keys[count:]:
            if workload:
                workload()
            raw_ms.append(1000 * raw.run(1))
            if workload:
                workload()
            t = time.perf_counter()
            svc.fire(actors["ops"], key, "publish")
            publish_ms.append(1000 * (time.perf_counter() - t))
        out[name] = (statistics.median(raw_ms), statistics.median(publish_ms))
    return out


def run(args: argparse.Namespace, url: str, tmp: str) -> None:
    os.environ["CASEBOOK_AUDIT_KEY"] = "bench"
    tz = ZoneInfo("Asia/Shanghai")
    settings = Settings(home=Path(tmp), db_url=url)
    ctx = build_context(settings=settings, clock=RunningClock(datetime(2026, 4, 1, 10, tzinfo=tz)))
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
    raw = RawCommits(ctx.engine)
    raw.run(50)  # warm-up
    # Interleave the two paths in rounds so machine noise hits both alike; report totals and the median ratio.
    rounds = max(1, min(args.rounds, len(keys)))
    ours_time = raw_time = fire_time = paired_time = 0.0
    transitions = fires = 0
    ratios, plain_ratios = [], []
    per_event: dict[str, list[float]] = {}
    for r in range(rounds):
        batch = keys[r::rounds]
        round_fires, round_fire_time = fires, fire_time
        start, round_paired = time.perf_counter(), paired_time
        for key in batch:
            for step in FLOW:
                if step[0] == "review":
                    review(ctx, actors, step[1])
                    continue
                who, event, reason = step
                # Each plain transition gets one raw commit at the same point of the lifecycle, before it or
                # after it in turn, so the raw commit meets the same cold or warm caches as the transition.
                plain = event != "submit"
                if plain and fires % 2:
                    paired_time += raw.run(1)
                t = time.perf_counter()
                svc.fire(actors[who], key, event, reason=reason)
                spent = time.perf_counter() - t
                per_event.setdefault(event, []).append(spent)
                if plain:
                    fire_time += spent
                    fires += 1
                    if fires % 2:
                        paired_time += raw.run(1)
        t_ours = time.perf_counter() - start - (paired_time - round_paired)
        n = len(batch) * TRANSITIONS_PER_CASE
        t_raw = raw.run(n)
        ours_time, raw_time, transitions = ours_time + t_ours, raw_time + t_raw, transitions + n
        ratios.append((n / t_ours) / (n / t_raw))
        plain_ratios.append(((fires - round_fires) / (fire_time - round_fire_time)) / (n / t_raw))
    steady_ratios = steady(ctx, svc, actors, raw, args.steady) if args.steady else []
    effect = cache_effect(ctx, svc, actors, raw, args.cache_effect) if args.cache_effect else {}
    orm_rate = min(transitions, 2000) / raw.run_orm(min(transitions, 2000))
    raw.close()
    ours, raw_rate, fire_rate = transitions / ours_time, transitions / raw_time, fires / fire_time
    paired_rate = fires / paired_time
    print(f"backend: {ctx.engine.dialect.name}")
    print(f"cases: {args.cases}, transitions: {transitions}, rounds: {rounds}")
    print(f"full lifecycle path: {ours:,.0f} transitions/s (incl. pre-checks on submit, review claims and "
          f"decisions with rubric)")
    print(f"plain transitions (publish, start_update, expire, retire, archive): {fire_rate:,.0f} transitions/s "
          f"(state machine + versioned row update + hash-chained audit + listeners)")
    print("mean ms per event: " + ", ".join(f"{e} {1000 * sum(v) / len(v):.2f}" for e, v in per_event.items()))
    print(f"raw single-row commits (Core insert + commit), in a loop: {raw_rate:,.0f} commits/s; "
          f"one beside each plain transition: {paired_rate:,.0f} commits/s")
    print(f"ORM single-row commits (session add + commit): {orm_rate:,.0f} commits/s")
    print(f"ratio plain transitions/raw, each raw commit beside a transition (same caches): "
          f"{fire_rate / paired_rate:.2f} (goal >= 0.50)")
    if steady_ratios:
        print(f"ratio plain transitions/raw, both in a loop ({args.steady} cases through publish, expire, retire, "
              f"archive): {statistics.median(steady_ratios):.2f} median of {len(steady_ratios)} chunks "
              f"(goal >= 0.50)")
    print(f"ratio plain transitions/raw loop (transitions amid review work against commits in a loop, as recorded "
          f"before 2026-12-02): {fire_rate / raw_rate:.2f} overall, {statistics.median(plain_ratios):.2f} median "
          f"of rounds")
    print(f"ratio full path/raw: {ours / raw_rate:.2f} overall, {statistics.median(ratios):.2f} median of rounds")
    for name, (raw_ms, publish_ms) in effect.items():
        print(f"{name}: raw commit {raw_ms:.2f} ms, publish {publish_ms:.2f} ms (medians of {args.cache_effect})")
    ctx.close()


if __name__ == "__main__":
    main()

"""``casebook simulate``: synthetic cases with realistic timing, the clock moved day by day through the same
job functions the flows call, mail delivered to a local SMTP sink; duplicates are counted at the sink."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from casebook import store
from casebook.core.clock import FixedClock
from casebook.assembly import build_context
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.settings import Settings
from casebook.core.users import Actor, add_user
from flows.cron import first_fire_on
from flows.registry import JOBS, run_job
from lifecycle import states as S
from library.feedback import rate
from lifecycle.models import Case
from lifecycle.service import CaseService
from notifications.models import DEAD, OutboxMessage, Preference
from notifications.sink import SinkProcess
from review import decisions, queue
from casebook.core.locales import LOCALES

KEYS = ("cases", "submitted", "published", "reminders", "escalations", "expired", "retired", "archived", "digests",
        "sla_breaches", "notifications_sent", "duplicate_notifications", "dead_letters")
DEPARTMENTS = ("marketing", "sales", "brand")
WORDS = ("門店", "社群", "會員", "直播", "快閃", "聯名", "新品", "口碑", "試用", "社區", "團購", "私域", "達人", "短視頻", "節日",
         "校園", "戶外", "親子", "健身", "咖啡", "茶飲", "美妝", "家居", "出行", "寵物", "圖書", "音樂", "旅遊", "數碼", "烘焙")
CASES = Case.__table__
PASS = {"authenticity": 4, "completeness": 3, "inspiration": 3, "operability": 4}


@dataclass
class Plan:
    key: str | None
    author: Actor
    create_day: int
    submit_delay: int | None  # days after creation; None: never submitted
    resubmit_on: int | None = None
    update_on: int | None = None
    low_rated: bool = False
    keeps_up: bool = True     # some authors never get round to updating: their cases expire


@dataclass
class Totals:
    counts: Counter = field(default_factory=Counter)


def _document(rng: random.Random, policy: Any, author: Actor, project_end: date, n: int) -> dict[str, Any]:
    words = rng.sample(WORDS, 8)
    text = lambda k: "".join(rng.sample(WORDS, k)) + f"(第{n}號)"  # noqa: E731
    return {
        "title": f"{words[0]}{words[1]}活動{n}", "library": rng.choice(list(policy.doc.libraries)),
        "scenario": rng.choice(policy.doc.scenarios), "outcome": rng.choice(policy.doc.outcomes),
        "classification": rng.choice(["public", "internal", "internal"]), "department": author.department,
        "owner": author.username, "project_start": (project_end - timedelta(days=30)).isoformat(),
        "project_end": project_end.isoformat(), "target_users": text(3),
        "budget": {"amount": rng.randrange(5, 500) * 10000, "currency": "CNY"}, "channels": ["offline_store"],
        "body": {"background": text(5), "goal": text(4), "strategy": text(6), "execution": text(6),
                 "data": f"參與人數{rng.randrange(100, 9000)}人。" + text(3), "reflection": text(4)},
        "metrics": [{"name": "參與人數", "value": rng.randrange(100, 9000), "unit": "人", "source": "系統"}],
        "data_sources": [{"name": "系統", "kind": "system", "validation_method": "抽樣核對"}],
    }


def _users(ctx: AppContext, rng: random.Random, cases: int) -> dict[str, list[Actor]]:
    """Authors, and reviewers in proportion to the number of cases (as a real library staffs its review)."""
    reviewers = max(2, cases // 100)
    specs = [(f"{d}_author{i}", "staff", d) for d in DEPARTMENTS for i in range(max(4, cases // 150))]
    specs += [(f"{d}_head{i if i else ''}", "department_head", d) for d in DEPARTMENTS
              for i in range(max(1, cases // 300))]
    specs += [(f"specialist{i + 1}", "case_specialist", "ops") for i in range(reviewers)]
    specs += [(f"committee{i + 1}", "committee_member", "committee") for i in range(reviewers)]
    specs += [("ops1", "operations", "ops"), ("ops2", "operations", "ops"), ("exec1", "executive", "board"),
              ("intern1", "intern", "marketing")]
    out: dict[str, list[Actor]] = {}
    with ctx.sessions.begin() as session:
        for username, role, dept in specs:
            locale = rng.choice(LOCALES)
            # One author never gave an address: their mail dead-letters and operations is alerted.
            email = None if username == "brand_author1" else f"{username}@example.test"
            user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="simulate", username=username,
                            role=role, department=dept, locale=locale, email=email)
            out.setdefault(role, []).append(Actor.of(user))
            if rng.random() < 0.15:
                session.add(Preference(username=username, channel="email", mode="digest"))
    return out


def _run_jobs(ctx: AppContext, clock: FixedClock, day: date, totals: Totals) -> None:
    """Every job whose cron fires on ``day``, at its first fire time, then delivery."""
    for name in JOBS:
        if name == "deliver_notifications":
            continue
        cron = ctx.policy.doc.flows.get(name)
        at = first_fire_on(cron.cron, day, clock.tz) if cron else None
        if at is None:
            continue
        clock.current = at
        totals.counts.update(run_job(ctx, name))


def _people_act(ctx: AppContext, rng: random.Random, clock: FixedClock, day: date, d: int, plans: list[Plan],
                users: dict[str, list[Actor]], totals: Totals) -> None:
    clock.current = datetime.combine(day, time(14, 0), tzinfo=clock.tz)
    svc = CaseService(ctx)
    for n, plan in enumerate(plans):
        if plan.key is None and d == plan.create_day:
            try:
                end = day - timedelta(days=rng.randrange(0, 3))
                plan.key = svc.create(plan.author, _document(rng, ctx.policy, plan.author, end, n))
                totals.counts["cases"] += 1
            except CasebookError:
                continue
    # One read of every case's state per day (the people below act on what they see this morning).
    with ctx.engine.connect() as conn:
        facts = {r.key: r for r in conn.execute(select(CASES.c.key, CASES.c.state, CASES.c.classification,
                                                      CASES.c.department))}
    for n, plan in enumerate(plans):
        if plan.key is None:
            continue
        state = facts[plan.key].state
        if state in (S.SUBMITTED, S.APPROVED, S.SCHEDULED, S.ARCHIVED, S.WITHDRAWN, S.REJECTED) or \
                state.startswith("review_") or (state == S.DRAFT and plan.submit_delay is None):
            continue                                          # nothing for the author or operations to do
        try:
            if state == S.DRAFT and plan.submit_delay is not None and d == plan.create_day + plan.submit_delay:
                svc.fire(plan.author, plan.key, "submit")
                totals.counts["submitted"] += 1
            elif state == S.RETURNED and plan.resubmit_on is None:
                plan.resubmit_on = d + rng.randrange(1, 5)
            elif state == S.RETURNED and d >= (plan.resubmit_on or 0):
                svc.edit(plan.author, plan.key, {"body": {**svc.view(plan.author, plan.key).document["body"],
                                                          "reflection": "補充:" + "".join(rng.sample(WORDS, 4))}})
                svc.fire(plan.author, plan.key, "resubmit")
                plan.resubmit_on = None
                totals.counts["submitted"] += 1
            elif state == S.UPDATE_DUE and plan.keeps_up and rng.random() < 0.05:
                svc.fire(plan.author, plan.key, "start_update")
            elif state == S.UPDATING and rng.random() < 0.2:
                doc = svc.view(plan.author, plan.key).document
                svc.edit(plan.author, plan.key, {"body": {**doc["body"], "data": doc["body"]["data"] + "(更新)"}})
                svc.fire(plan.author, plan.key, "submit")
                totals.counts["submitted"] += 1
            elif state == S.PENDING_EVALUATION and rng.random() < 0.3:
                ops = rng.choice(users["operations"])
                if rng.random() < 0.5:
                    svc.fire(ops, plan.key, "retire", reason="no longer representative")
                    totals.counts["retired"] += 1
                else:
                    svc.fire(ops, plan.key, "renew")
            elif state == S.RETIRED:
                svc.fire(rng.choice(users["operations"]), plan.key, "archive")
                totals.counts["archived"] += 1
            elif state == S.PUBLISHED and rng.random() < 0.05:
                reader = rng.choice(users["staff"] + users["department_head"])
                if facts[plan.key].classification == "public" or reader.department == facts[plan.key].department:
                    rate(ctx, reader, plan.key, 2 if plan.low_rated else rng.randrange(3, 6))
        except CasebookError:
            continue
    # Reviewers: each takes the next task with a probability per day, so some work runs past its SLA.
    for role in ("case_specialist", "department_head", "committee_member"):
        for reviewer in users[role]:
            if rng.random() > 0.4:
                continue
            for _ in range(6):
                try:
                    task_id = queue.claim_next(ctx, reviewer)
                    if task_id is None:
                        break
                    roll = rng.random()
                    if roll < 0.08:
                        payload = {"decision": "return", "scores": PASS,
                                   "reasons": [{"section": "data", "text": "請補充數據來源"}]}
                    elif roll < 0.10:
                        payload = {"decision": "reject", "comment": "不符合入庫標準"}
                    else:
                        payload = {"decision": "approve", "scores": PASS}
                    decisions.decide(ctx, reviewer, task_id, payload)
                except CasebookError:
                    break


def simulate(cases: int, days: int, seed: int, *, start: date = date(2026, 1, 5), db_url: str | None = None,
             progress: Any = None) -> dict[str, int]:
    rng = random.Random(seed)
    home = Path(tempfile.mkdtemp(prefix="casebook-sim-"))
    # Mail goes to an SMTP server in a process of its own (it counts duplicates by outbox key). The store is a
    # throw-away file: commits need not wait for the disk (WAL keeps it consistent if the process dies).
    with SinkProcess() as sink:
        settings = Settings(home=home, db_url=db_url or f"sqlite:///{home}/sim.db", audit_key="simulation",
                            smtp_host="127.0.0.1", smtp_port=sink.port, reports_dir=home / "reports",
                            sqlite_synchronous="NORMAL")
        clock = FixedClock(datetime.combine(start, time(8, 0)))
        ctx = build_context(settings=settings, clock=clock)
        store.upgrade(ctx.engine)
        users = _users(ctx, rng, cases)
        plans = []
        for _ in range(cases):
            roll = rng.random()
            delay = rng.randrange(3, 14) if roll < 0.7 else (rng.randrange(16, 28) if roll < 0.93 else None)
            plans.append(Plan(None, rng.choice(users["staff"]), rng.randrange(0, max(1, int(days * 0.75))), delay,
                              low_rated=rng.random() < 0.05, keeps_up=rng.random() < 0.6))
        totals = Totals()
        for d in range(days):
            day = start + timedelta(days=d)
            _people_act(ctx, rng, clock, day, d, plans, users, totals)
            _run_jobs(ctx, clock, day, totals)
            if progress:
                progress(d + 1)
        with ctx.engine.connect() as conn:
            dead = conn.execute(select(func.count()).select_from(OutboxMessage.__table__)
                                .where(OutboxMessage.__table__.c.status == DEAD)).scalar_one()
            published = conn.execute(select(func.count()).select_from(CASES)
                                     .where(CASES.c.published_version_no.is_not(None))).scalar_one()
        ctx.close()
        c = totals.counts
        return {"cases": c["cases"], "submitted": c["submitted"], "published": published,
                "reminders": c["reminders"], "escalations": c["escalations"], "expired": c["expired"],
                "retired": c["retired"], "archived": c["archived"], "digests": c["digests"],
                "sla_breaches": c["sla_breaches"], "notifications_sent": sink.count(),
                "duplicate_notifications": sink.duplicates(), "dead_letters": dead}

"""``casebook up --demo``: a demo library worth opening, built by living through two years.

The clock is moved day by day over the past ``DAYS`` days through the real services: authors capture, submit,
revise and update cases (``lifecycle.service.CaseService``), reviewers claim and decide review tasks at all three
levels (``review.queue`` / ``review.decisions``), readers view, rate and ask for corrections
(``library.feedback``), staff ask for access and department heads decide (``access.requests``), operations close
their work items (``lifecycle.work``), and every scheduled job runs at its cron time on each day (the same job
functions the Prefect flows call: publishing, monthly release, staleness, expiry, archive, reminders,
escalations, rectification, micro-case watch, quarterly and yearly health checks, digests). Mail goes to a
local SMTP sink while the history is written, so none of it is sent anywhere later.

Each case follows a plan that leads it to one lifecycle state by today, so every state, library and locale is
present and every demo user finds open work in their inbox. Deterministic for a seed and a start time.
The case texts are invented (``casebook.demo_content``). Shell layer: imported by the CLI only.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from casebook.core.clock import FixedClock
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, InvalidInput
from casebook.core.locales import LOCALES
from casebook.core.users import Actor, add_user
from casebook.demo_content import Story, story

DAYS = 760
DIGEST_DAYS = 14        # personal daily digests are written for the last two weeks only
DELIVER_EVERY = 30      # days between delivery runs to the local sink while the history is written
SEED = 20261203
PASSWORD = "casebook-demo"   # demo only: documented in README and docs/
#: (username, role, department, locale). The first eight are the documented demo sign-ins.
USERS = [("demo_author", "staff", "marketing", "zh-Hant"), ("demo_author2", "staff", "sales", "zh-Hans"),
         ("demo_spec", "case_specialist", "ops", "zh-Hans"), ("demo_head", "department_head", "marketing", "zh-Hant"),
         ("demo_com", "committee_member", "committee", "en"), ("demo_ops", "operations", "ops", "zh-Hans"),
         ("demo_intern", "intern", "marketing", "zh-Hant"), ("demo_exec", "executive", "board", "en"),
         ("demo_author3", "staff", "brand", "en"), ("demo_head_sales", "department_head", "sales", "zh-Hans"),
         ("demo_head_brand", "department_head", "brand", "en"), ("demo_contractor", "staff", "marketing", "zh-Hant")]
#: Each demo user's display name (what pages, reports and e-mails show; the user name is for signing in).
NAMES = {"demo_author": "陳美玲", "demo_author2": "王建国", "demo_spec": "李静", "demo_head": "林志明",
         "demo_com": "Grace Chow", "demo_ops": "张伟", "demo_intern": "黃小雯", "demo_exec": "David Ho",
         "demo_author3": "Emily Wong", "demo_head_sales": "刘洋", "demo_head_brand": "Kevin Lam",
         "demo_contractor": "吳家豪"}
AUTHOR = {"marketing": "demo_author", "sales": "demo_author2", "brand": "demo_author3"}
HEAD = {"marketing": "demo_head", "sales": "demo_head_sales", "brand": "demo_head_brand"}
INSTANT = ("industry_benchmark", "cross_domain_inspiration")      # 24 months, published at once
MONTHLY = ("enterprise_practice", "methodology_tools")            # 36 months, released on the 1st
READERS = ("demo_author", "demo_author2", "demo_author3", "demo_head", "demo_head_sales", "demo_head_brand",
           "demo_spec", "demo_com", "demo_exec", "demo_ops", "demo_intern")
SCORES = ({"authenticity": 4, "completeness": 4, "inspiration": 3, "operability": 4},
          {"authenticity": 4, "completeness": 3, "inspiration": 4, "operability": 3},
          {"authenticity": 3, "completeness": 4, "inspiration": 4, "operability": 4})
RETURN_SCORES = {"authenticity": 3, "completeness": 2, "inspiration": 3, "operability": 3}
SCENARIOS = ("new_product_launch", "brand_communication", "channel_expansion", "user_operation", "promotion",
             "private_domain", "crisis_response", "event_marketing")
OUTCOMES = ("success", "success", "to_be_optimised", "failure")


@dataclass
class Plan:
    """How one case lives: when it is captured and submitted, what reviewers and operations do with it, who
    reads and rates it, and the state it is meant to rest in today (``target``)."""

    n: int
    target: str
    story: Story
    library: str
    department: str
    classification: str
    create_day: int
    submit_day: int | None = None
    returns: dict[int, int] = field(default_factory=dict)   # review level -> returns still to make there
    reject_level: int | None = None
    hold_level: int | None = None          # reviewers leave this level's task open
    final: str | None = None               # what happens in the last hours: approve, schedule, claim, retire
    update_from: int | None = None         # from this day the author answers "update due"
    update_hold: bool = False              # start the update, do not submit it (yet)
    withdraw_day: int | None = None
    archive_after: int | None = None       # days after withdrawal or rejection operations archive it
    evaluation: str | None = None          # renew / retire an expired case (None: the evaluation stays open)
    micro: bool = False
    project_end_day: int | None = None
    owner: str | None = None
    ratings: list[tuple[int, str, int]] = field(default_factory=list)     # (days after publication, reader, stars)
    corrections: list[tuple[int, str, bool]] = field(default_factory=list)  # (days after, requester, answered)
    key: str | None = None
    seen: str | None = None                # state at the last look
    since: int = 0                         # day that state was entered
    published_day: int | None = None
    last_return: str = "data"

    @property
    def author(self) -> str:
        return AUTHOR[self.department]


# -- the plans ----------------------------------------------------------------------------------------------------

def _plans(rng: random.Random, end: int) -> list[Plan]:
    """Seventy-odd plans: targets and their timing chosen so each case rests in its target state today."""
    plans: list[Plan] = []
    depts = ("marketing", "sales", "brand")

    def add(target: str, *, library: str | None = None, department: str | None = None,
            classification: str = "internal", **kw: Any) -> Plan:
        n = len(plans)
        locale = LOCALES[n % len(LOCALES)]
        scenario = SCENARIOS[(n * 5 + 3) % len(SCENARIOS)]
        outcome = OUTCOMES[(n * 3 + 1) % len(OUTCOMES)]
        lib = library or (INSTANT + MONTHLY)[n % 4]
        plan = Plan(n=n, target=target, story=story(rng, n, locale, scenario, outcome), library=lib,
                    department=department or depts[n % 3], classification=classification, **kw)
        plans.append(plan)
        return plan

    def reviewed(start: int, span: int) -> int:
        return start + rng.randrange(0, span)

    # Drafts: some owed soon, some overdue (reminders and escalations ran for them).
    for i in range(5):
        c = end - 3 - i * 9
        add("draft", create_day=c, project_end_day=c - 20 + i * 4, department=depts[i % 3])
    # In review, held at their level today.
    for i in range(4):
        add("review_l1", create_day=end - 12 - i * 2, submit_day=end - 2 - i * 2, hold_level=1,
            final="claim" if i == 0 else None, department=depts[i % 3])
    add("review_l1", create_day=end - 6, submit_day=end - 3, hold_level=1, micro=True, library="industry_benchmark",
        department="marketing")
    for i in range(4):
        add("review_l2", create_day=end - 30 - i * 4, submit_day=end - 16 - i * 3, hold_level=2,
            department=("marketing", "sales", "brand", "marketing")[i])
    for i in range(3):
        add("review_l3", create_day=end - 28 - i * 5, submit_day=end - 20 - i * 3, hold_level=3,
            returns={1: 1} if i == 0 else {})
    for i in range(3):
        add("returned", create_day=end - 40 - i * 7, submit_day=end - 30 - i * 6, returns={i % 3 + 1: 1},
            department=depts[i % 3])
    add("approved", create_day=end - 30, submit_day=end - 22, hold_level=3, final="approve", library="industry_benchmark")
    add("approved", create_day=end - 34, submit_day=end - 25, hold_level=3, final="approve",
        library="cross_domain_inspiration", returns={2: 1})
    for i in range(3):
        add("scheduled", create_day=end - 35 - i * 4, submit_day=end - 24 - i * 3, hold_level=3, final="schedule",
            library=MONTHLY[i % 2])
    # Published in the last five months (one or two versions, some returned once on the way).
    for i in range(18):
        c = end - 165 + i * 7
        lib = (INSTANT + MONTHLY)[i % 4]
        if lib in MONTHLY:
            c -= 25
        returns = {(i % 3) + 1: 1} if i % 3 == 0 else {}
        p = add("published", create_day=c, submit_day=c + 3 + i % 5, returns=returns, library=lib,
                classification="public" if i % 4 == 1 else "internal")
        p.ratings = _ratings(rng, p, 4 + i % 4, low=(i == 5))
        if i in (2, 9):
            p.corrections = [(rng.randrange(5, 25), "demo_com", True)]
    # Published, stale, updated once (three or more versions) and published again within six months.
    for i in range(5):
        c = end - 350 + i * 18
        lib = (INSTANT + MONTHLY)[i % 4]
        p = add("published", create_day=c, submit_day=c + 4, library=lib, update_from=c, returns={2: 1} if i == 1 else {})
        p.ratings = _ratings(rng, p, 5 + i, low=False)
    # The micro-case that went live within hours.
    p = add("published", create_day=end - 50, submit_day=end - 50, micro=True, library="cross_domain_inspiration",
            classification="public")
    p.ratings = _ratings(rng, p, 3, low=False)
    # A public case the intern ran (owner), written up by a marketing author: a correction waits for the intern.
    p = add("published", create_day=end - 120, submit_day=end - 117, library="cross_domain_inspiration",
            department="marketing", classification="public", owner="demo_intern")
    p.corrections = [(100, "demo_head", False)]
    p.ratings = _ratings(rng, p, 3, low=False)
    # A marketing case with an open correction for its author, and one for the access requests.
    p = add("published", create_day=end - 90, submit_day=end - 86, library="industry_benchmark", department="marketing")
    p.corrections = [(70, "demo_com", True), (80, "demo_spec", False)]
    p.ratings = _ratings(rng, p, 4, low=False)
    # Low ratings: a rectification task for operations.
    p = add("published", create_day=end - 60, submit_day=end - 57, library="industry_benchmark", department="sales")
    p.ratings = [(5 + k, r, s) for k, (r, s) in enumerate((("demo_spec", 2), ("demo_com", 2), ("demo_exec", 3),
                                                         ("demo_ops", 2)))]
    # Stale: published more than six months ago, never updated.
    for i in range(5):
        c = end - 230 - i * 60
        p = add("update_due", create_day=c, submit_day=c + 5, library=(INSTANT + MONTHLY)[i % 4])
        p.ratings = _ratings(rng, p, 3 + i % 3, low=False)
    # Being updated: the author started the update a few days ago.
    for i in range(2):
        c = end - 260 - i * 70
        p = add("updating", create_day=c, submit_day=c + 4, update_from=end - 6 + i, update_hold=True,
                library=MONTHLY[i])
        p.ratings = _ratings(rng, p, 4, low=False)
    # Expired (24-month libraries): one left for evaluation, one renewed (now being updated), retired, archived.
    for i in range(3):
        p = add("pending_evaluation", create_day=i, submit_day=i + 3, library=INSTANT[i % 2])
        p.ratings = _ratings(rng, p, 5, low=i == 1)
    p = add("updating", create_day=2, submit_day=5, library="industry_benchmark", evaluation="renew", update_hold=True,
            update_from=end + 1)
    p.ratings = _ratings(rng, p, 4, low=False)
    for i in range(2):
        p = add("retired", create_day=i + 1, submit_day=i + 4, library=INSTANT[i], final="retire")
        p.ratings = _ratings(rng, p, 3, low=True)
    for i in range(2):
        p = add("archived", create_day=i, submit_day=i + 2, library=INSTANT[i], evaluation="retire")
        p.ratings = _ratings(rng, p, 4, low=True)
    # Withdrawn, rejected, and each once more archived after it.
    add("withdrawn", create_day=end - 120, submit_day=end - 116, withdraw_day=end - 25, library="industry_benchmark")
    add("withdrawn", create_day=end - 45, withdraw_day=end - 20, library="methodology_tools")
    add("archived", create_day=end - 300, submit_day=end - 295, withdraw_day=end - 200, archive_after=6,
        library="cross_domain_inspiration")
    add("rejected", create_day=end - 40, submit_day=end - 33, reject_level=2, department="sales")
    add("rejected", create_day=end - 26, submit_day=end - 20, reject_level=1)
    add("archived", create_day=end - 420, submit_day=end - 413, reject_level=3, archive_after=10,
        library="enterprise_practice")
    for p in plans:
        if p.project_end_day is None:
            p.project_end_day = p.create_day - rng.randrange(5, 30)
    return plans


def _ratings(rng: random.Random, plan: Plan, count: int, *, low: bool) -> list[tuple[int, str, int]]:
    """Readers who may read the case (department-scoped roles of its department; the intern public cases only)."""
    dept = {u: d for u, _, d, _ in USERS}
    scoped = {"demo_author", "demo_author2", "demo_author3", "demo_head", "demo_head_sales", "demo_head_brand"}
    eligible = [r for r in READERS if (r not in scoped or dept[r] == plan.department)
                and (r != "demo_intern" or plan.classification == "public") and r != plan.author]
    readers = rng.sample(eligible, min(count, len(eligible)))
    return [(rng.randrange(2, 40), reader, rng.choice((1, 2, 2, 3)) if low else rng.choice((3, 4, 4, 5, 5)))
            for reader in readers]


# -- the world ----------------------------------------------------------------------------------------------------

@dataclass
class World:
    ctx: AppContext
    clock: FixedClock
    start: date
    end: int
    actors: dict[str, Actor]
    plans: list[Plan]
    by_key: dict[str, Plan] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acted: int = 0          # actions taken so far (a new look at the cases is needed only after one)
    looked: int = -1

    def at(self, d: int, hour: int, minute: int = 0) -> datetime:
        self.clock.current = datetime.combine(self.start + timedelta(days=d), time(hour, minute), self.clock.tz)
        return self.clock.current

    def attempt(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run one person's action; a refusal is recorded (the demo's test shows none happen) and skipped."""
        try:
            result = fn(*args, **kw)
            self.acted += 1
            return result
        except CasebookError as exc:
            self.failures.append(f"{self.clock.current:%Y-%m-%d %H:%M} {what}: {exc}")
            return None


def _users(ctx: AppContext) -> dict[str, Actor] | None:
    from notifications.models import Preference

    actors: dict[str, Actor] = {}
    with ctx.sessions.begin() as session:
        for username, role, dept, locale in USERS:
            try:
                user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="demo", username=username,
                                role=role, department=dept, locale=locale, email=f"{username}@example.test",
                                display_name=NAMES[username])
            except InvalidInput:
                return None
            actors[username] = Actor.of(user)
        # Two people read their mail as a daily digest (the digests job has something to do).
        session.add(Preference(username="demo_com", channel="email", mode="digest"))
        session.add(Preference(username="demo_head_brand", channel="email", mode="digest"))
    return actors


def _run_jobs(w: World, day: date, *, before: datetime | None = None) -> None:
    """Every job whose cron fires on ``day``, at its first fire time (only those before ``before``).

    The personal daily digests (a queue listing per reviewer per day, the costliest job by far) run for the last
    ``DIGEST_DAYS`` days only; the weekly scenario pack and the monthly brief run every time they fall due."""
    from flows.cron import first_fire_on
    from flows.registry import JOBS
    from lifecycle import jobs
    from notifications import digests

    recent = (w.start + timedelta(days=w.end) - day).days <= DIGEST_DAYS

    for name, job in JOBS.items():
        if name == "deliver_notifications":
            continue
        cron = w.ctx.policy.doc.flows.get(name)
        at = first_fire_on(cron.cron, day, w.clock.tz) if cron else None
        if at is None or (before is not None and at >= before):
            continue
        w.clock.current = at
        # The nightly expiry job also refreshes planner statistics: once, at the end, is enough here.
        if name == "expiry_audit":
            counts = jobs.expiry_audit(w.ctx)
        elif name == "digests" and not recent:
            counts = {"digests": digests.weekly_scenario_pack(w.ctx) + digests.monthly_brief(w.ctx)}
        else:
            counts = job(w.ctx)
        w.counts.update({k: v for k, v in counts.items() if isinstance(v, int)})


def _look(w: World, d: int, *, force: bool = False) -> None:
    """Every demo case's row this morning; notes when each plan's case entered its present state."""
    from lifecycle.models import Case

    if w.looked == w.acted and not force:
        return
    w.looked = w.acted
    cases = Case.__table__
    with w.ctx.engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(cases.c.key, cases.c.state, cases.c.current_version_no)
                                               .where(cases.c.key.in_(list(w.by_key))))}
    for key, row in rows.items():
        plan = w.by_key[key]
        if row.state != plan.seen:
            plan.seen, plan.since = row.state, d
            if row.state == "published" and plan.published_day is None:
                plan.published_day = d


def _authors(w: World, d: int) -> None:
    from lifecycle.service import CaseService

    svc = CaseService(w.ctx)
    w.at(d, 10, 30)
    for plan in w.plans:
        if plan.key is None and d == plan.create_day:
            end_day = w.start + timedelta(days=plan.project_end_day or d)
            doc = plan.story.document(library=plan.library, classification=plan.classification,
                                      department=plan.department, owner=plan.owner or plan.author,
                                      project_end=end_day, micro=plan.micro)
            key = w.attempt(f"create #{plan.n}", svc.create, w.actors[plan.author], doc)
            if key:
                plan.key, plan.seen, plan.since = key, "draft", d
                w.by_key[key] = plan
        if plan.key is None:
            continue
        author, state = w.actors[plan.author], plan.seen
        if plan.withdraw_day == d and state not in ("withdrawn", "archived"):
            reason = "項目數據需重新核對,暫時撤回" if plan.story.zh else "Figures under re-check; withdrawn for now"
            w.attempt(f"withdraw {plan.key}", svc.fire, author, plan.key, "withdraw", reason=reason)
        elif state == "draft" and plan.submit_day == d:
            w.attempt(f"submit {plan.key}", svc.fire, author, plan.key, "submit")
        elif state == "returned" and plan.target != "returned" and d >= plan.since + 2:
            current = svc.view(author, plan.key).document
            w.attempt(f"revise {plan.key}", svc.edit, author, plan.key,
                      plan.story.revision(current, plan.last_return), note="revised after review")
            w.attempt(f"resubmit {plan.key}", svc.fire, author, plan.key, "resubmit")
        elif state == "update_due" and plan.update_from is not None and d >= max(plan.update_from, plan.since + 3):
            w.attempt(f"start update {plan.key}", svc.fire, author, plan.key, "start_update")
        elif state == "updating" and not plan.update_hold and d == plan.since + 2:
            # The update in two sittings (two versions): the figures first, the lessons the next day.
            current = svc.view(author, plan.key).document
            year = (w.start + timedelta(days=d)).year
            months = max(1, (d - (plan.published_day or d)) // 30)
            w.attempt(f"update {plan.key}", svc.edit, author, plan.key,
                      plan.story.revision(current, "update", year=year, months=months), note="periodic update: figures")
        elif state == "updating" and not plan.update_hold and d >= plan.since + 3:
            current = svc.view(author, plan.key).document
            w.attempt(f"update {plan.key}", svc.edit, author, plan.key, plan.story.revision(current, "reflection"),
                      note="periodic update: lessons")
            w.attempt(f"submit update {plan.key}", svc.fire, author, plan.key, "submit")


def _open_tasks(w: World, level: int) -> list[Any]:
    from review.models import OPEN, ReviewTask

    tasks = ReviewTask.__table__
    with w.ctx.engine.connect() as conn:
        return list(conn.execute(select(tasks).where(tasks.c.status == OPEN, tasks.c.level == level)
                                 .order_by(tasks.c.id)))


def _decide(w: World, reviewer: str, task: Any, plan: Plan) -> None:
    from review import decisions, queue

    actor = w.actors[reviewer]
    refused = len(w.failures)
    w.attempt(f"claim {task.case_key} L{task.level}", queue.claim, w.ctx, actor, task.id)
    if len(w.failures) > refused:
        return
    if plan.returns.get(task.level):
        plan.returns[task.level] -= 1
        reasons = plan.story.return_reasons(task.level)
        plan.last_return = reasons[0]["section"]
        payload: dict[str, Any] = {"decision": "return", "scores": RETURN_SCORES, "reasons": reasons}
    elif plan.reject_level == task.level:
        text = ("與庫內已有案例高度重合,且數據無法溯源。" if plan.story.zh
                else "Overlaps an existing case and its figures cannot be traced.")
        payload = {"decision": "reject", "comment": text}
    else:
        payload = {"decision": "approve", "scores": SCORES[plan.n % len(SCORES)]}
    w.attempt(f"decide {task.case_key} L{task.level}", decisions.decide, w.ctx, actor, task.id, payload)


def _reviewers(w: World, d: int) -> None:
    if not w.ctx.calendar.is_workday(w.start + timedelta(days=d)):
        return
    for level, hour in ((1, 11), (2, 14), (3, 16)):
        w.at(d, hour)
        for task in _open_tasks(w, level):
            plan = w.by_key.get(task.case_key)
            if plan is None:
                continue
            waited = (w.clock.current - task.created_at).total_seconds() / 86400
            if waited < (0 if plan.micro else 0.8 + plan.n % 2):
                continue
            if plan.hold_level == level and not plan.returns.get(level):
                continue
            reviewer = {1: "demo_spec", 2: HEAD[plan.department], 3: "demo_com"}[level]
            _decide(w, reviewer, task, plan)


def _operations(w: World, d: int) -> None:
    from lifecycle.service import CaseService
    from lifecycle.work import LIVE, WORK, close_work_item

    ops = w.actors["demo_ops"]
    w.at(d, 12)
    with w.ctx.engine.connect() as conn:
        items = list(conn.execute(select(WORK).where(WORK.c.status.in_(LIVE)).order_by(WORK.c.id)))
    keys = {p.key: p for p in w.plans if p.key}
    from lifecycle.models import Case

    with w.ctx.engine.connect() as conn:
        ids = dict(conn.execute(select(Case.__table__.c.id, Case.__table__.c.key)).all())
    for item in items:
        age = (w.clock.current - item.created_at).days
        plan = keys.get(ids.get(item.case_id))
        zh = plan.story.zh if plan else True
        if item.kind == "evaluation" and plan and plan.evaluation and age >= 2:
            why = ("續期:內容仍有參考價值,由作者更新數據" if plan.evaluation == "renew" else "退役:案例已過時,渠道玩法已變")
            if not zh:
                why = ("Renewed: still useful; the author updates the figures" if plan.evaluation == "renew"
                       else "Retired: outdated, the channel works differently now")
            w.attempt(f"evaluate {plan.key}", close_work_item, w.ctx, ops, item.id, plan.evaluation, why)
        elif item.kind == "rectification" and age >= 5 and d < w.end - 20:
            w.attempt("rectify", close_work_item, w.ctx, ops, item.id, "rectified", "已與作者補充數據口徑並重寫反思")
        elif item.kind.startswith("health_") and age >= 12:
            decision = {"health_retire": "keep", "health_update": "updated", "health_restructure": "restructured"}
            w.attempt("health task", close_work_item, w.ctx, ops, item.id, decision[item.kind], "已覆核,按季度計劃處理")
    svc = CaseService(w.ctx)
    for plan in w.plans:
        if plan.key and plan.archive_after is not None and plan.seen in ("withdrawn", "rejected") \
                and d >= plan.since + plan.archive_after:
            w.attempt(f"archive {plan.key}", svc.fire, ops, plan.key, "archive")


def _readers(w: World, d: int) -> None:
    from library.feedback import rate, request_correction
    from library.usage import mark_reuse
    from lifecycle.work import close_work_item
    from redaction.views import read_case

    w.at(d, 19)
    for plan in w.plans:
        if plan.key is None or plan.published_day is None or plan.seen in ("withdrawn", "archived", "retired"):
            continue
        after = d - plan.published_day
        for offset, reader, stars in plan.ratings:
            if offset == after:
                actor = w.actors[reader]
                if w.attempt(f"read {plan.key}", read_case, w.ctx, actor, plan.key, via="web") is not None:
                    w.attempt(f"rate {plan.key}", rate, w.ctx, actor, plan.key, stars,
                              plan.story.comment(stars, plan.n + offset) if offset % 2 else None)
                    if stars >= 3 and (plan.n + offset) % 3 == 0:   # some readers say what they did with it
                        outcomes = w.ctx.policy.doc.reports.reuse_outcomes
                        w.attempt(f"reuse {plan.key}", mark_reuse, w.ctx, actor, plan.key,
                                  outcomes[(plan.n + offset) % len(outcomes)])
        for k, (offset, requester, answered) in enumerate(plan.corrections):
            if offset == after:
                w.attempt(f"correction {plan.key}", request_correction, w.ctx, w.actors[requester], plan.key,
                          plan.story.correction(plan.n + k))
            elif answered and offset + 1 == after:
                _answer(w, plan, k, close_work_item)


#: What readers type into search over the last year (both scripts and English, as people do).
QUERIES = ("會員召回", "会员", "燕麥拿鐵", "直播間", "launch", "Douyin", "快閃活動", "家長", "低糖", "community")
#: Monthly NPS answers, picked in turn (mostly promoters, some passives, a detractor now and then).
NPS_SCORES = (9, 10, 8, 6, 9, 7, 10, 9, 4, 8, 9, 10)
USAGE_DAYS = 365


def _usage(w: World, d: int) -> None:
    """The last year of using the library through its services: a search on most working days, the monthly NPS
    survey answered over the month, one reader every other day (so this month some have answered, some not yet)."""
    from library.search import search
    from library.usage import answer_nps

    if d < w.end - USAGE_DAYS:
        return
    day = w.start + timedelta(days=d)
    if day.weekday() < 5:
        w.at(d, 9, 40)
        w.attempt("search", search, w.ctx, w.actors[READERS[d % len(READERS)]], QUERIES[d % len(QUERIES)])
    for i, reader in enumerate(READERS):
        if day.day == 2 + 2 * i:                  # one reader after another through the month
            w.at(d, 12, 10 + i)
            w.attempt("nps", answer_nps, w.ctx, w.actors[reader], NPS_SCORES[(i + day.month) % len(NPS_SCORES)])


def _answer(w: World, plan: Plan, k: int, close: Any) -> None:
    from lifecycle.work import LIVE, WORK

    owner = plan.owner or plan.author
    with w.ctx.engine.connect() as conn:
        item = conn.execute(select(WORK.c.id).where(WORK.c.kind == "correction", WORK.c.assignee == owner,
                                                    WORK.c.status.in_(LIVE)).order_by(WORK.c.id)).first()
    if item is not None:
        w.attempt(f"answer {plan.key}", close, w.ctx, w.actors[owner], item.id, "answered", plan.story.answer(k))


ACCESS = [  # (days before today, requester, department of the case, decision or None for pending)
    (300, "demo_author2", "marketing", True), (210, "demo_author3", "marketing", False),
    (150, "demo_author", "sales", True), (40, "demo_author3", "sales", False),
    (1, "demo_author2", "marketing", None), (1, "demo_author3", "marketing", None), (0, "demo_author", "brand", None)]


def _access(w: World, d: int) -> None:
    from access.requests import decide_access, request_access

    for days_before, requester, department, decision in ACCESS:
        if d != w.end - days_before - (1 if days_before == 0 else 0):
            continue
        w.at(d, 15 if days_before else 17)
        case = next((p for p in w.plans if p.key and p.department == department and p.classification == "internal"
                     and p.seen in ("published", "update_due") and p.published_day is not None), None)
        if case is None:
            w.failures.append(f"no published {department} case to ask access for on day {d}")
            continue
        rid = w.attempt("access request", request_access, w.ctx, w.actors[requester], case.key,
                        case.story.access_reason(w.actors[requester].department, d))
        if rid and decision is not None:
            w.clock.current += timedelta(hours=20)
            w.attempt("access decision", decide_access, w.ctx, w.actors[HEAD[department]], rid, decision)


def _freeze(w: World, d: int) -> None:
    """Late one evening a contractor pulls case after case: the bulk-download rule freezes the account."""
    from access.accounts import record_download

    w.at(d, 22, 30)
    actor = w.actors["demo_contractor"]
    keys = [p.key for p in w.plans if p.key and p.published_day is not None and p.department == "marketing"]
    limit = w.ctx.policy.doc.security.bulk_download_max
    for i in range(limit + 1):
        w.clock.current += timedelta(seconds=20)
        try:
            record_download(w.ctx, actor, keys[i % len(keys)], 180_000, "10.20.30.40", via="web")
        except CasebookError:
            w.counts["frozen_accounts"] += 1
            return


def _final_hours(w: World, now: datetime) -> None:
    """Today, in the hours before now: a case scheduled for the month's release, a retirement, a claimed task
    and the approvals that publish on the next run (every 15 minutes)."""
    from lifecycle import jobs
    from lifecycle.work import LIVE, WORK, close_work_item
    from review import queue

    steps = [("schedule", 150), ("retire", 90), ("claim", 60), ("approve", 10)]
    for what, minutes in steps:
        w.clock.current = now - timedelta(minutes=minutes)
        for plan in w.plans:
            if plan.final != what or plan.key is None:
                continue
            if what in ("schedule", "approve"):
                task = next((t for t in _open_tasks(w, 3) if t.case_key == plan.key), None)
                if task is not None:
                    _decide(w, "demo_com", task, plan)
            elif what == "claim":
                task = next((t for t in _open_tasks(w, 1) if t.case_key == plan.key), None)
                if task is not None:
                    w.attempt("claim", queue.claim, w.ctx, w.actors["demo_spec"], task.id)
            elif what == "retire":
                with w.ctx.engine.connect() as conn:
                    item = conn.execute(select(WORK.c.id).join_from(WORK, _cases(), _cases().c.id == WORK.c.case_id)
                                        .where(_cases().c.key == plan.key, WORK.c.kind == "evaluation",
                                               WORK.c.status.in_(LIVE))).first()
                if item is not None:
                    reason = "退役:渠道玩法已變,不再具參考性" if plan.story.zh else "Retired: the channel works differently now"
                    w.attempt(f"retire {plan.key}", close_work_item, w.ctx, w.actors["demo_ops"], item.id, "retire",
                              reason)
        if what == "schedule":
            w.clock.current += timedelta(minutes=5)     # the 15-minute publishing run: monthly-batch cases wait
            w.counts.update(jobs.publish_approved(w.ctx))


def _cases() -> Any:
    from lifecycle.models import Case

    return Case.__table__


def _deliver(w: World) -> None:
    from notifications.delivery import deliver

    while True:
        report = deliver(w.ctx)
        w.counts["notifications_sent"] += report.sent
        if report.sent + report.failed + report.dead == 0:
            return


def build(ctx: AppContext, *, seed: int = SEED, days: int = DAYS) -> dict[str, Any] | None:
    """Live through ``days`` days ending at the context clock's now; returns what was built (None when the demo
    users exist already: the demo loads once per store)."""
    from casebook.core.db import make_engine, refresh_statistics
    from notifications.sink import SinkProcess

    now = ctx.clock.now()
    start = now.astimezone(ctx.clock.tz).date() - timedelta(days=days)
    clock = FixedClock(datetime.combine(start, time(8, 0), ctx.clock.tz), ctx.clock.tz)
    rng = random.Random(seed)
    with SinkProcess() as sink:
        settings = ctx.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": sink.port,
                                                   "smtp_tls": "none", "smtp_user": None, "smtp_password": None,
                                                   "chat_groups": {}})
        # A throw-away engine for the load: on SQLite each commit need not wait for the disk (WAL keeps the store
        # consistent if the process dies; a half-loaded demo is loaded again into a fresh store).
        engine = make_engine(settings.database_url, sqlite_synchronous="NORMAL") \
            if ctx.engine.dialect.name == "sqlite" else ctx.engine
        demo = dataclasses.replace(ctx, settings=settings, clock=clock, engine=engine)
        actors = _users(demo)
        if actors is None:
            return None
        w = World(demo, clock, start, days, actors, _plans(rng, days))
        for d in range(days):
            day = start + timedelta(days=d)
            _run_jobs(w, day)
            _look(w, d, force=True)
            _authors(w, d)
            _look(w, d)
            _reviewers(w, d)
            _operations(w, d)
            _look(w, d)
            _readers(w, d)
            _access(w, d)
            _usage(w, d)
            if d == days - 2:
                _freeze(w, d)
            if d % DELIVER_EVERY == DELIVER_EVERY - 1:
                w.at(d, 23, 50)
                _deliver(w)
        _run_jobs(w, now.astimezone(ctx.clock.tz).date(), before=now - timedelta(hours=3))
        _look(w, days, force=True)
        _final_hours(w, now)
        _look(w, days, force=True)
        w.clock.current = now
        _deliver(w)
        demo.flush_queues()                  # the year's searches, before the load's engine goes
        if "access_log" in demo.__dict__:
            demo.access_log.close()
        if engine is not ctx.engine:
            engine.dispose()
    refresh_statistics(ctx.engine)
    from access.accounts import set_password

    for username in actors:
        set_password(ctx, Actor.system("demo"), username, PASSWORD)
    states = Counter(p.seen for p in w.plans if p.key)
    return {"users": len(actors), "cases": sum(states.values()), "states": dict(states),
            "mismatched": [f"{p.key}: {p.seen} (planned {p.target})" for p in w.plans if p.key and p.seen != p.target],
            "refusals": w.failures, "counts": dict(w.counts), "mail_to_sink": sink.count()}


def load_demo(ctx: AppContext) -> str:
    """``casebook up --demo``: build the demo library once; a line saying what it holds."""
    import time as _time

    began = _time.monotonic()
    built = build(ctx)
    if built is None:
        return "already loaded"
    took = _time.monotonic() - began
    states = ", ".join(f"{k} {v}" for k, v in sorted(built["states"].items()))
    return (f"{built['users']} users (password {PASSWORD}), {built['cases']} cases over {DAYS} days "
            f"({states}) in {took:.0f} s")

"""``casebook seed --cases N --seed S``: a synthetic library written straight into the store, for benchmarks,
demos and sizing a deployment.

Rows are the ones the services write (users through ``add_user``; case rows, versions with their fingerprints,
audit events chained exactly as ``audit.record`` chains them, open review tasks, ratings, views, and each
version's stored findings, renderings and search entries through ``redaction.stored`` and ``library.index``),
but inserted in bulk: 100,000 cases in minutes instead of hours. Texts are built from Casebook's own phrase
templates in zh-Hant, zh-Hans and English, with names, amounts, percentages and contact data to redact. Field
texts come from a pool, so detection runs once per distinct text, exactly as it would per version.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from casebook.core import access_log, audit
from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.crypto import seal_for
from casebook.core.chain import BoundChain
from casebook.core.db import BoundRows, bulk_bind, bulk_insert, bulk_insert_bound
from casebook.core.textnorm import PartsMemo
from casebook.core.users import Actor, User, add_user
from lifecycle import states as S
from lifecycle.document import SECTIONS, document_fingerprint
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import Rating
from review.models import OPEN, ReviewTask

CASES, VERSIONS, EVENTS, HEAD = Case.__table__, CaseVersion.__table__, audit.AuditEvent.__table__, audit.AuditHead.__table__
RATINGS, TASKS, USERS = Rating.__table__, ReviewTask.__table__, User.__table__
DEPARTMENTS = ("marketing", "sales", "brand", "retail")
CHUNK = 2000
#: Fewest texts per field and language: every pool text is detected up front, whatever the number of cases.
MIN_POOL = 40

# ----- text: Casebook's own phrase templates (Traditional; Simplified is derived with OpenCC) -----
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋"
GIVEN = "志明俊傑建宏家豪冠宇承翰怡君淑芬雅婷佩珊美玲文華國強子軒欣怡宗翰詩涵偉倫嘉慧振宇思妤秀英麗華世昌"
EN_FIRST = ("Olivia", "Marcus", "Priya", "Daniel", "Grace", "Kenji", "Sofia", "Ethan", "Hannah", "Victor")
EN_LAST = ("Whitfield", "Okafor", "Lindqvist", "Moreau", "Castellano", "Brennan", "Takeda", "Ferreira", "Novak")
TOPICS = ("門店", "社群", "會員", "直播", "快閃", "聯名", "新品", "口碑", "試用", "社區", "團購", "私域", "達人", "短視頻",
          "節日", "校園", "戶外", "親子", "健身", "咖啡", "茶飲", "美妝", "家居", "出行", "寵物", "圖書", "音樂", "旅遊",
          "數碼", "烘焙", "潮玩", "露營", "電競", "文創", "母嬰", "汽車", "保險", "理財", "教育", "醫美")
EN_TOPICS = ("loyalty app", "pop-up store", "livestream", "referral scheme", "campus tour", "sampling kiosk",
             "newsletter", "creator collab", "trade show", "holiday bundle", "subscription box", "price test")
ZH = {
    "title": ["{t1}{t2}活動復盤", "{t1}×{t2}聯合推廣", "{t1}{t2}拉新計劃", "{t1}渠道{t2}轉化實驗", "{t1}{t2}品牌升級"],
    "target_users": ["一二線城市{t1}愛好者,年齡二十五至三十五歲", "{t1}社群活躍會員與{t2}新客", "已購{t1}用戶及其親友"],
    "background": ["{t1}品類增速放緩,{t2}渠道新客成本升至每人{m}元。", "去年{t1}活動由{name}負責,覆蓋門店{n}家。",
                   "競品在{t2}投放加碼,我方聲量占比下降{p}%。"],
    "goal": ["三個月內{t1}會員增長{p}%,預算控制在{w}萬元以內。", "{t2}渠道成交額達到{w}萬元,復購率提升至百分之{q}。",
             "新增{t1}種子用戶{n}名,投入產出比不低於{r}。"],
    "strategy": ["以{t1}內容帶動{t2}口碑,由{name}統籌素材。", "聯合{t2}達人共創,分階段釋放{t1}權益。",
                 "{t1}試用裝加{t2}社群裂變,重點城市先行。"],
    "execution": ["第一階段由{name}帶隊,聯絡電話{phone},共舉辦{n}場{t1}活動。", "每週兩次{t2}直播,{name}負責排期與復盤。",
                  "各門店設{t1}體驗區,諮詢請聯繫{email}。"],
    "data": ["活動期間成交額{w}萬元,轉化率{p}%,投入{m}元。", "新增會員{n}人,復購率百分之{q},ROI達{r}。",
             "總預算{w}萬元,{t2}渠道貢獻營收{w2}萬元。"],
    "reflection": ["{t1}素材更新過慢,{t2}熱度後段回落。", "{name}建議下次提前鎖定檔期,控制物料成本。",
                   "{t2}轉化高於預期,可複製到其他區域。"],
    "validation_method": ["與財務系統逐筆核對,並訪談{name}確認。", "抽樣覆核{n}筆訂單,誤差低於一個百分點。"],
}
EN = {
    "title": ["{e1} for {e2} buyers", "Reviving the {e1} with a {e2}", "{e1} and {e2}: a joint push"],
    "target_users": ["Urban professionals aged 25-40 who follow {e1} offers", "Existing members and their friends"],
    "background": ["Sales of the {e1} line had stalled; acquisition cost rose to ${m} per customer.",
                   "Last year's {e2} was run by {en_name} across {n} stores."],
    "goal": ["Grow members by {p}% in one quarter on a budget of ${k},000.", "Reach ${k},000 in revenue via the {e1}."],
    "strategy": ["Pair the {e1} with a {e2}; {en_name} owned the creative plan.", "Seed the {e2} with micro-creators first."],
    "execution": ["{en_name} ran {n} sessions; questions went to {email} or {phone}.", "Weekly {e1} drops, reviewed every Friday."],
    "data": ["Revenue ${k},000, conversion {p}%, spend ${m}.", "{n} new members, repeat rate {q}%, ROI {r}."],
    "reflection": ["The {e2} peaked early; stagger the drops next time.", "{en_name} suggests locking venues sooner."],
    "validation_method": ["Reconciled with the finance ledger; confirmed with {en_name}.", "Sampled {n} orders by hand."],
}
LANGS = ("zh-Hant", "zh-Hans", "en")
BUDGETS = tuple(n * 10_000 for n in (8, 12, 20, 35, 50, 80, 120, 200, 320, 500, 800))
RETURNS = (0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.2, 4.0)
TEXT_FIELDS = ("title", "target_users", *SECTIONS, "validation_method")


@dataclass
class Pools:
    """Distinct field texts per language; a document picks one per field."""

    texts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    interviewees: list[str] = field(default_factory=list)

    def all_texts(self, policy: Any) -> list[str]:
        """Every distinct text a document built from these pools can hold (what detection runs on)."""
        facets = policy.doc.tag_facets
        fixed = ["營收", "Revenue", "ROI", "財務系統", "Finance ledger", "system", "offline_store"]
        fixed += [value for spec in facets.values() for value in spec.values]
        texts = [t for pool in self.texts.values() for t in pool] + self.interviewees + fixed
        return list(dict.fromkeys(texts))


def _fill(rng: random.Random, template: str) -> str:
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
    values = {"t1": rng.choice(TOPICS), "t2": rng.choice(TOPICS), "e1": rng.choice(EN_TOPICS),
              "e2": rng.choice(EN_TOPICS), "name": name, "en_name": f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}",
              "m": rng.randrange(20, 900), "n": rng.randrange(3, 600), "p": rng.randrange(2, 95),
              "q": rng.randrange(10, 60), "r": f"{rng.randrange(11, 60) / 10:.1f}", "w": rng.randrange(5, 900),
              "w2": rng.randrange(5, 2000), "k": rng.randrange(5, 900),
              "phone": f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
              "email": f"{rng.choice(['li', 'chen', 'mkt', 'ops'])}{rng.randrange(1, 99)}@example.com"}
    return template.format(**values)


def make_pools(rng: random.Random, per_field: int) -> Pools:
    from opencc import OpenCC

    t2s = OpenCC("t2s")
    pools = Pools()
    for name in TEXT_FIELDS:
        hant = [_fill(rng, rng.choice(ZH[name])) for _ in range(per_field)]
        pools.texts[("zh-Hant", name)] = hant
        pools.texts[("zh-Hans", name)] = [t2s.convert(t) for t in hant]
        pools.texts[("en", name)] = [_fill(rng, rng.choice(EN[name])) for _ in range(per_field)]
    pools.interviewees = list(dict.fromkeys(rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
                                            for _ in range(4 * per_field)))
    return pools


def make_document(rng: random.Random, policy: Any, pools: Pools, *, owner: str, department: str,
                  classification: str, library: str, project_end: datetime) -> dict[str, Any]:
    """One case document in the shape ``parse_document`` produces (``model_dump(mode="json")``)."""
    lang = rng.choice(LANGS)
    pick = lambda name: rng.choice(pools.texts[(lang, name)])  # noqa: E731
    facets = policy.doc.tag_facets
    tags = {facet: rng.sample(spec.values, k=1 + (rng.random() < 0.3)) for facet, spec in facets.items()
            if rng.random() < 0.8}
    budget = rng.choice(BUDGETS)
    revenue = budget * rng.choice(RETURNS)
    source = "財務系統" if lang != "en" else "Finance ledger"
    interviewee = rng.choice(pools.interviewees)
    start = (project_end - timedelta(days=rng.randrange(20, 120))).date()
    return {
        "title": pick("title"), "library": library, "scenario": rng.choice(policy.doc.scenarios),
        "outcome": rng.choice(policy.doc.outcomes), "classification": classification, "department": department,
        "owner": owner, "micro": False, "project_start": start.isoformat(), "project_end": project_end.date().isoformat(),
        "target_users": pick("target_users"), "budget": {"amount": str(budget), "currency": "CNY"},
        "channels": rng.sample(list(facets["channel"].values) if "channel" in facets else ["offline_store"], k=1),
        "tags": tags, "body": {s: pick(s) for s in SECTIONS},
        "metrics": [{"name": "營收" if lang != "en" else "Revenue", "value": revenue, "unit": "元", "kind": "revenue",
                     "source": source},
                    {"name": "ROI", "value": round(revenue / budget, 2), "unit": None, "kind": None, "source": source}],
        "data_sources": [{"name": source, "kind": "system", "interviewees": [interviewee],
                          "validation_method": pick("validation_method")}],
    }


# ----- states: the event path that leads to each, so audit trails replay to the row -----
def _path(policy: Any, state: str, library: str) -> list[str]:
    levels = len(policy.chain_for(library, False))
    review = ["submit", "start_review"] + ["approve"] * (levels - 1)
    instant = policy.doc.libraries[library].publish_channel == "instant"
    publish = review + ["approve", "publish"] + ([] if instant else ["release"])
    paths = {
        S.DRAFT: [], S.SUBMITTED: ["submit"], "review": review, S.RETURNED: review[:2] + ["return_for_revision"],
        S.APPROVED: review + ["approve"], S.SCHEDULED: review + ["approve", "publish"],
        S.PUBLISHED: publish, S.UPDATE_DUE: publish + ["flag_update"], S.UPDATING: publish + ["start_update"],
        "rereview": publish + ["start_update", "submit", "start_review"],
        S.PENDING_EVALUATION: publish + ["expire"], S.RETIRED: publish + ["retire"],
        S.ARCHIVED: publish + ["retire", "archive"], S.WITHDRAWN: ["withdraw"],
        S.REJECTED: review[:2] + ["reject"],
    }
    if state == S.SCHEDULED and instant:
        return paths[S.APPROVED] + ["publish"]  # never reached: scheduled cases are drawn from batch libraries
    return paths[state]


def _mix(published_share: float) -> list[tuple[str, float]]:
    """Live published states share ``published_share``; every other state shares the rest."""
    live = [(S.PUBLISHED, 0.80), (S.UPDATE_DUE, 0.06), (S.UPDATING, 0.04), ("rereview", 0.06),
            (S.PENDING_EVALUATION, 0.04)]
    rest = [S.DRAFT, S.SUBMITTED, "review", S.RETURNED, S.APPROVED, S.SCHEDULED, S.RETIRED, S.ARCHIVED,
            S.WITHDRAWN, S.REJECTED]
    return [(s, w * published_share) for s, w in live] + [(s, (1 - published_share) / len(rest)) for s in rest]


@dataclass
class Seeded:
    users: dict[str, list[str]]
    cases: int
    states: dict[str, int]
    versions: int
    events: int
    ratings: int
    views: int


class _Chain:
    """Audit events of one chunk, in order; ``audit.record_many`` chains them when the chunk is written."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, *, at: datetime, actor: str, action: str, subject_id: str, before: dict[str, Any] | None = None,
            after: dict[str, Any] | None = None, details: dict[str, Any] | None = None, ip: str | None = None) -> None:
        self.rows.append({"at": at, "actor": actor, "action": action, "subject_type": "case",
                          "subject_id": subject_id, "ip": ip, "before": before, "after": after, "details": details})


def seed_users(ctx: AppContext, per_department: int = 2) -> dict[str, list[Actor]]:
    """Users for every role of the policy (department-scoped roles in each department), through ``add_user``."""
    out: dict[str, list[Actor]] = {}
    with ctx.sessions.begin() as session:
        taken = set(session.scalars(select(User.username)))
        for role, spec in ctx.policy.doc.roles.items():
            depts = DEPARTMENTS if spec.department_scoped else (role,)
            count = per_department if role == "staff" else 1
            for dept in depts:
                for i in range(count):
                    name = f"seed_{role}_{dept}{i or ''}" if spec.department_scoped else f"seed_{role}"
                    if name in taken:
                        user = session.scalar(select(User).where(User.username == name))
                    else:
                        n = len(taken)     # a person's name for pages, stable per user
                        display = SURNAMES[n % len(SURNAMES)] + GIVEN[2 * (n % (len(GIVEN) // 2)):][:2]
                        user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="seed",
                                        username=name, role=role, department=dept, display_name=display,
                                        locale=LANGS[len(taken) % 3], email=f"{name}@example.test")
                        taken.add(name)
                    out.setdefault(role, []).append(Actor.of(user))
    return out


@dataclass
class _Plan:
    """What every chunk is built from (set before the worker processes fork, so they share it)."""

    ctx: AppContext
    seed: int
    cases: int
    first_id: int
    pools: Pools
    users: dict[str, list[Actor]]
    published_share: float
    now: datetime
    indexer: Any
    fingerprints: PartsMemo = field(default_factory=PartsMemo)


@dataclass
class _Chunk:
    """The rows of one chunk of cases, built without the store (in a worker process when there are several)."""

    cases: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    events: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    renderings: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    states: dict[str, int]
    views: list[dict[str, Any]]


@dataclass
class _Bound:
    """A chunk's rows bound for the store's dialect (``casebook.core.db.bulk_bind``) and sealed, audit and access
    rows serialised around their chain links: what the writing process inserts (review tasks stay rows: their
    ids are given in chunk order by the writer)."""

    count: int
    first_subject: str
    cases: BoundRows | None
    versions: BoundRows | None
    tasks: list[dict[str, Any]]
    ratings: BoundRows | None
    events: BoundChain | None
    views: BoundChain | None
    index: Any
    states: dict[str, int]
    totals: dict[str, int]


_PLAN: _Plan | None = None


def seed(ctx: AppContext, cases: int, seed: int = 1, *, published_share: float = 0.8,
         progress: Callable[[int], None] | None = None, workers: int | None = None) -> Seeded:
    """Add ``cases`` synthetic cases (and the users they need) to the store; deterministic for a given seed
    (each chunk of ``CHUNK`` cases draws from its own generator, so the worker count changes nothing).

    Chunks are built by ``workers`` processes (default: one per core) while this process writes the finished
    ones, each in its own transaction (audit events chained here, in chunk order)."""
    global _PLAN
    from library.index import Indexer, bulk_entries

    users = seed_users(ctx)
    pools = make_pools(random.Random(seed), per_field=max(MIN_POOL, min(400, cases // 50)))
    with ctx.engine.begin() as conn:
        first_id = (conn.execute(select(func.max(CASES.c.id))).scalar() or 0) + 1
        next_task = (conn.execute(select(func.max(TASKS.c.id))).scalar() or 0) + 1
    _PLAN = _Plan(ctx, seed, cases, first_id, pools, users, published_share,
                  ctx.clock.now().astimezone(timezone.utc), Indexer(ctx))
    starts = list(range(0, cases, CHUNK))
    workers = min(workers or os.cpu_count() or 1, len(starts))
    _prepare(_PLAN, workers)
    counts: dict[str, int] = {}
    totals = {"versions": 0, "events": 0, "ratings": 0, "views": 0}
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        built = pool.imap(_bound_chunk, starts) if pool else map(_bound_chunk, starts)
        with ctx.engine.connect() as conn, _bulk_load(conn), bulk_entries(conn):
            for number, chunk in enumerate(built):
                for task in chunk.tasks:
                    task["id"], next_task = next_task, next_task + 1
                with conn.begin():
                    _write(conn, ctx, chunk, number)
                for state, n in chunk.states.items():
                    counts[state] = counts.get(state, 0) + n
                for name, n in chunk.totals.items():
                    totals[name] += n
                if progress:
                    progress(chunk.count)
            if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                with conn.begin():
                    for table in (CASES, TASKS):
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                             f"(SELECT max(id) FROM {table.name}))")
    finally:
        if pool:
            pool.terminate()
        _PLAN = None
    return Seeded({role: [a.username for a in actors] for role, actors in users.items()}, cases, counts,
                  totals["versions"], totals["events"], totals["ratings"], totals["views"])


def _write(conn: Connection, ctx: AppContext, chunk: _Bound, number: int) -> None:
    """One chunk's rows in the caller's transaction: the audit events chained on the shard of the chunk's first
    subject (as ``audit.record_many`` chains a transaction's events), the views on an access-log shard of their own
    (batches rotate over the shards, as ``AccessLog`` writes them)."""
    assert _PLAN is not None
    for table, rows in ((CASES, chunk.cases), (VERSIONS, chunk.versions), (RATINGS, chunk.ratings)):
        bulk_insert_bound(conn, table, rows)
    bulk_insert(conn, TASKS, chunk.tasks)
    audit.record_bound(conn, ctx.audit, ("case", chunk.first_subject), chunk.events)
    access_log.CHAIN.insert_bound(conn, ctx.audit.key, number % ctx.audit.shards, chunk.views)
    _PLAN.indexer.write_bound(conn, chunk.index)


def _bound_chunk(start: int) -> _Bound:
    """The chunk of the cases ``start`` … ``start + CHUNK`` built and bound (no store access)."""
    assert _PLAN is not None
    chunk, engine = _build_chunk(start), _PLAN.ctx.engine
    dialect = engine.dialect
    classes = {row["id"]: row["classification"] for row in chunk.cases}
    for row in chunk.cases:  # encrypted classifications sealed at rest (casebook.core.crypto), as the services do
        row["title"] = seal_for(engine, row["classification"], row["title"])
    fingerprints = {(row["case_id"], row["number"]): row["shingles"] for row in chunk.versions}
    for row in chunk.versions:
        row["document"] = seal_for(engine, classes[row["case_id"]], row["document"])
    index = _PLAN.indexer.bind_built(engine, chunk.findings, chunk.renderings, chunk.entries, fingerprints)
    totals = {"versions": len(chunk.versions), "events": len(chunk.events), "ratings": len(chunk.ratings),
              "views": len(chunk.views)}
    return _Bound(len(chunk.cases), chunk.events[0]["subject_id"], bulk_bind(dialect, CASES, chunk.cases),
                  bulk_bind(dialect, VERSIONS, chunk.versions), chunk.tasks, bulk_bind(dialect, RATINGS, chunk.ratings),
                  audit.bind_events(dialect, _PLAN.ctx.audit.policy_version, chunk.events),
                  access_log.CHAIN.bind(dialect, chunk.views), index, chunk.states, totals)


@contextmanager
def _bulk_load(conn: Connection) -> Iterator[None]:
    """SQLite: this connection's commits skip the fsync and it keeps a large page cache while seeding (a store
    being filled is thrown away if the machine fails meanwhile); both are restored afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    synchronous = driver.execute("PRAGMA synchronous").fetchone()[0]
    cache = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute("PRAGMA synchronous=OFF")
    driver.execute("PRAGMA cache_size=-262144")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA synchronous={int(synchronous)}")
        driver.execute(f"PRAGMA cache_size={int(cache)}")


def _prepare(plan: _Plan, workers: int) -> None:
    """What every worker would otherwise repeat, done once before they fork (they inherit it): detection
    of every text the pools hold (so the analyzer runs once per distinct text, as it does per version; shared out
    among ``workers`` processes forked once the analyzer is loaded), each text's trigrams, and the tables script
    detection and the segmenter load on first use."""
    from library.index import indexed_words
    from redaction.operators import script_of

    policy, findings = plan.ctx.policy, plan.indexer.findings
    texts = [text for text in plan.pools.all_texts(policy) if text not in findings]
    if texts:
        findings[texts[0]] = _detect(texts[0])  # loads the analyzer here, once, before any fork
    rest = texts[1:]
    if workers > 1 and len(rest) >= 100:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = pool.map(_detect, rest, chunksize=max(1, len(rest) // (8 * workers)))
    else:
        found = [_detect(text) for text in rest]
    findings.update(zip(rest, found))
    for text in plan.pools.all_texts(policy):
        plan.fingerprints.part(text)
    script_of("預熱")
    indexed_words("預熱")


def _detect(text: str) -> Any:
    """One pool text's findings (in a detection worker when there are several)."""
    from redaction.api import detect_text

    assert _PLAN is not None
    return detect_text(_PLAN.ctx.policy, text)



def _build_chunk(start: int) -> _Chunk:
    """The rows of the cases ``start`` … ``start + CHUNK`` of the plan (no store access)."""
    plan = _PLAN
    assert plan is not None
    ctx, policy, pools, now, cases = plan.ctx, plan.ctx.policy, plan.pools, plan.now, plan.cases
    rng = random.Random(f"{plan.seed}/{start}")
    users = plan.users
    authors = users["staff"]
    readers = [a for actors in users.values() for a in actors]
    operators = users.get("operations") or readers
    mix = _mix(plan.published_share)
    state_names, weights = [s for s, _ in mix], [w for _, w in mix]
    libraries = list(policy.doc.libraries)
    batch_libraries = [name for name in libraries if policy.doc.libraries[name].publish_channel != "instant"]
    classifications = policy.doc.classifications
    n = min(CHUNK, cases - start)
    chain = _Chain()
    out = _Chunk([], [], [], [], chain.rows, [], [], [], {}, [])
    for i in range(n):
        cid = plan.first_id + start + i
        key = f"CB-{cid:06d}"
        # The library's first cases take every state once (so any seed of 15 cases or more holds them all).
        label = state_names[start + i] if start + i < len(state_names) else rng.choices(state_names, weights)[0]
        library = rng.choice(batch_libraries if label == S.SCHEDULED and batch_libraries else libraries)
        author = rng.choice(authors)
        classification = rng.choices(classifications, [0.3, 0.55, 0.15][:len(classifications)] or None)[0]
        # Later ids were captured later (as in a real store), up to four years back.
        age = 30 + 1440 * (1 - (start + i) / cases)
        created = now - timedelta(days=age + rng.random() * 20, minutes=rng.randrange(0, 1440))
        doc = make_document(rng, policy, pools, owner=author.username, department=author.department,
                            classification=classification, library=library, project_end=created)
        path = _path(policy, label, library)
        state, level, current, published_no, published_at = S.DRAFT, 0, 1, None, None
        at, submitted_at = created, None
        chain.add(at=at, actor=author.username, action="case.create", subject_id=key, after={
            "state": S.DRAFT, "review_level": 0, "version": 1, "key": key})
        versions = [(1, doc, created)]
        review_round, chain_len, edits = 0, len(policy.chain_for(library, False)), 0
        changed_at = content_at = created  # what lifecycle.replay derives from the events: keep the row equal
        for event in path:
            at = at + timedelta(hours=rng.randrange(2, 96))
            before = {"state": state, "review_level": level, "version": current}
            state, level, review_round, pub = _step(policy, state, event, level, library, review_round, chain_len)
            changed_at = at
            if pub:
                published_no, published_at, content_at = current, at, at
            if event == "submit":
                submitted_at = at
            actor = author.username if event in ("submit", "start_update", "withdraw") else \
                rng.choice(operators).username
            reason = "seed" if event in S.REASON_REQUIRED else None
            after = before | {"state": state, "review_level": level}
            chain.add(at=at, actor=actor, action=f"case.{event}", subject_id=key, before=before, after=after,
                      details={"reason": reason} if reason else None)
            if event == "start_update":  # the update itself: a new version, as ``CaseService.edit`` records it
                at = at + timedelta(hours=rng.randrange(1, 48))
                doc2 = json.loads(json.dumps(doc))
                reflections = pools.texts[("en" if doc["title"].isascii() else rng.choice(LANGS[:2]), "reflection")]
                doc2["body"]["reflection"] = rng.choice([t for t in reflections if t != doc["body"]["reflection"]])
                before = {"state": state, "review_level": level, "version": current}
                current += 1
                versions.append((current, doc2, at))
                content_at = at
                edits += 1
                chain.add(at=at, actor=author.username, action="case.edit", subject_id=key, before=before,
                          after=before | {"version": current}, details={"fields": ["body"], "note": None})
        expires = None
        if published_at is not None:
            expires = add_months(published_at, policy.doc.libraries[library].validity_months)
        out.cases.append({
            "id": cid, "key": key, "title": doc["title"], "state": state, "review_level": level,
            "reentry_level": 1, "review_round": review_round, "library": library,
            "classification": classification, "department": author.department, "owner_id": author.user_id,
            "author_id": author.user_id, "micro": False, "project_start": _date(doc["project_start"]),
            "project_end": _date(doc["project_end"]), "submission_due": None,
            "submitted_at": submitted_at, "current_version_no": current, "published_version_no": published_no,
            "published_at": published_at, "content_updated_at": content_at, "expires_at": expires,
            "state_changed_at": changed_at, "policy_version": policy.version_tag, "created_at": created,
            "updated_at": at, "row_version": 1 + len(path) + edits})
        for number, document, written in versions:
            out.versions.append({"case_id": cid, "number": number, "document": document,
                                 "created_by": author.username, "created_at": written,
                                 "note": "captured" if number == 1 else None, "policy_version": policy.version_tag,
                                 "shingles": document_fingerprint(document, plan.fingerprints)})
        if state.startswith("review_l"):
            step = policy.chain_for(library, False)[level - 1]
            out.tasks.append({"case_id": cid, "case_key": key, "round": review_round, "level": level,
                              "level_name": step.name, "candidate_role": step.role,
                              "candidate_department": author.department if step.scope == "case_department" else None,
                              "status": OPEN, "claimed_by": None, "claimed_at": None, "created_at": at,
                              "due_at": at + timedelta(days=3), "decided_at": None, "decision": None,
                              "policy_version": policy.version_tag})
        if published_no is not None:
            for reader in rng.sample(readers, k=min(len(readers), rng.randrange(0, 6))):
                out.ratings.append({"case_id": cid, "username": reader.username,
                                    "stars": rng.choices(range(1, 6), [1, 2, 4, 6, 5])[0], "comment": None,
                                    "rated_at": published_at + timedelta(days=rng.randrange(1, 60))})
            for _ in range(rng.randrange(0, 3)):  # reads are kept in the access log (casebook.core.access_log)
                out.views.append({"at": published_at + timedelta(days=rng.randrange(1, 90)),
                                  "actor": rng.choice(readers).username, "action": "view", "case_key": key,
                                  "version": published_no, "ip": "10.0.0.%d" % rng.randrange(1, 250),
                                  "via": rng.choice(("page", "api"))})
        out.states[state] = out.states.get(state, 0) + 1
    out.findings, out.renderings, out.entries = plan.indexer.build_versions(
        [(r["case_id"], r["number"], r["document"]) for r in out.versions], {r["id"]: r for r in out.cases})
    return out


def _date(value: str | None) -> Any:
    from datetime import date

    return date.fromisoformat(value) if value else None


def _step(policy: Any, state: str, event: str, level: int, library: str, review_round: int,
          chain_len: int) -> tuple[str, int, int, bool]:
    """(state, review level, round, published?) after one event of a seeded path (the machine's table)."""
    instant = policy.doc.libraries[library].publish_channel == "instant"
    if event == "submit":
        return S.SUBMITTED, level, review_round + 1, False
    if event == "start_review":
        return S.review_state(1), 1, review_round, False
    if event == "approve":
        return (S.APPROVED, level, review_round, False) if level >= chain_len else \
            (S.review_state(level + 1), level + 1, review_round, False)
    if event == "publish":
        return (S.PUBLISHED, level, review_round, True) if instant else (S.SCHEDULED, level, review_round, False)
    if event == "release":
        return S.PUBLISHED, level, review_round, True
    dest = {"return_for_revision": S.RETURNED, "reject": S.REJECTED, "flag_update": S.UPDATE_DUE,
            "start_update": S.UPDATING, "expire": S.PENDING_EVALUATION, "retire": S.RETIRED,
            "archive": S.ARCHIVED, "withdraw": S.WITHDRAWN}[event]
    return dest, level, review_round, False



"""Writing the search index: when a version is published, one entry per display tier with the terms of that
tier's stored rendering (so a viewer only ever matches text they may see), and the version's tags.

Terms are jieba's search-mode words of the Simplified, lower-cased text (Traditional and Simplified fold to
one form), separated by spaces for SQLite FTS5 and PostgreSQL's ``simple`` configuration alike. A tier that
shows a case of the highest classification exactly is indexed as keyed hashes of its terms: the index then
holds none of that case's exact text, and a query's terms are hashed the same way to match it.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection, Engine

from casebook.core.context import AppContext
from casebook.core.crypto import seal_for
from casebook.core.db import BoundRows, Prepared, bulk_bind, bulk_insert, bulk_insert_bound
from casebook.core.textnorm import to_simplified
from lifecycle import hooks
from lifecycle import states as S
from lifecycle.document import text_fields
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import Rating
from library.models import GIN_INDEX, SearchEntry, SearchRating
from policies.loader import Policy
from redaction import stored
from library import similar_index as similar

ENTRIES, CASES, VERSIONS = SearchEntry.__table__, Case.__table__, CaseVersion.__table__
SEARCH_RATINGS, RATINGS = SearchRating.__table__, Rating.__table__
#: States whose cases only ``security.archived_read_roles`` find (marked archived), and states nobody finds.
ARCHIVED_STATES = (S.RETIRED, S.ARCHIVED)
HIDDEN_STATES = (S.WITHDRAWN, S.REJECTED)
_PUNCT = re.compile(r"^[\W_]+$")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def _words(simplified: str) -> list[str]:
    return [w for w in (t.strip() for t in _jieba().cut_for_search(simplified)) if w and not _PUNCT.match(w)]


def indexed_words(text: str) -> list[str]:
    """What the index holds for a text: jieba's search-mode words of the Simplified lower-cased text, plus every
    pair of neighbouring Chinese characters, so a query for any part of a phrase finds it whatever the segmenter
    made of it (it cuts 秋季新品茶飲快閃店 into 品茶, 飲快, 閃店: 快閃 is only found by its pair)."""
    simplified = to_simplified(text.lower())
    out = _words(simplified)
    for run in _HAN_RUN.findall(simplified):
        out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


def query_words(query: str) -> list[str]:
    """The words a query must match: the character pairs of its Chinese runs (a lone character as itself) and
    jieba's words for everything else (Latin words, numbers)."""
    simplified = to_simplified(query.strip().lower())
    out: list[str] = []
    for run in _HAN_RUN.findall(simplified):
        out += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
    out += _words(_HAN_RUN.sub(" ", simplified))
    return list(dict.fromkeys(out))


@lru_cache(maxsize=1 << 16)
def fact(kind: str, value: Any) -> str:
    """A fact token: letters and digits only (every tokenizer keeps it whole), never a word of any text."""
    if kind in ("t", "u", "i", "v") + DATE_KINDS:  # tiers, ids, visibility, dates: already letters and digits
        return f"q{kind}{value}"
    return f"q{kind}" + hashlib.blake2b(str(value).encode(), digest_size=5).hexdigest()


# ----- publication dates as tokens: century, decade, year, month and day of the day published -----
#: Kinds of the date tokens, coarsest first, and how many digits of YYYYMMDD each keeps.
DATE_KINDS = ("h", "k", "y", "m", "n")
_DATE_DIGITS = (2, 3, 4, 6, 8)
#: Open ends of a date range stand for these days (no case is published outside them).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def published_day(published_at: datetime | None, tz: tzinfo) -> date | None:
    """The day a case was published in the policy's timezone (what the date filters compare)."""
    return published_at.astimezone(tz).date() if published_at is not None else None


def date_facts(day: date | None) -> list[str]:
    """The date tokens of an entry: one per granularity, so any day range is a short OR of whole units."""
    if day is None:
        return []
    digits = day.strftime("%Y%m%d")
    return [fact(kind, digits[:n]) for kind, n in zip(DATE_KINDS, _DATE_DIGITS)]


def date_range_facts(first: date | None, last: date | None) -> list[str]:
    """Tokens whose union is exactly the entries published from ``first`` to ``last`` (inclusive; open ends
    stand for ``FIRST_DAY``/``LAST_DAY``): whole centuries, decades, years and months where they fit, single
    days at the edges (at most about 120 tokens)."""
    day, last = max(first or FIRST_DAY, FIRST_DAY), min(last or LAST_DAY, LAST_DAY)
    out: list[str] = []
    while day <= last:
        for kind, span, digits in (("h", 100, 2), ("k", 10, 3), ("y", 1, 4)):
            if (day.month, day.day) == (1, 1) and day.year % span == 0 and day.year + span - 1 <= last.year and \
                    (day.year + span - 1 < last.year or (last.month, last.day) == (12, 31)):
                out.append(fact(kind, f"{day.year:04d}"[:digits]))
                if day.year + span > LAST_DAY.year:
                    return out
                day = date(day.year + span, 1, 1)
                break
        else:
            month_end = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
            if day.day == 1 and month_end <= last:
                out.append(fact("m", f"{day.year:04d}{day.month:02d}"))
                day = month_end + timedelta(days=1)
            else:
                out.append(fact("n", f"{day.year:04d}{day.month:02d}{day.day:02d}"))
                day = day + timedelta(days=1)
    return out


# ----- PostgreSQL: entry id periods, so a search walks the newest entries first (``search._pg_window``) -----
#: Entries fall into periods of 2**PERIOD_BITS consecutive ids (4,096: about a thousand cases' entries).
PERIOD_BITS = 12
#: How many of the newest periods a search's first step covers.
FIRST_PERIODS = 2
#: The most periods a search walks period by period; past them it searches the rest at once.
MAX_PERIODS = 8
def indexed_tsv(bits: int = 12) -> str:
    """What PostgreSQL's GIN index (``GIN_INDEX``, migration 0022) indexes, with periods of 2**bits ids: an entry's
    words and facts and the token of its id period. A query must say it exactly so for the planner to use the index."""
    return (f"(search_entries.tsv || to_tsvector('simple'::regconfig, "
            f"('qp'::text || ((search_entries.id >> {bits}))::text)))")


INDEXED_TSV = indexed_tsv(PERIOD_BITS)


def period_token(period: int) -> str:
    """The token of an id period in the GIN index (``INDEXED_TSV``)."""
    return f"qp{period}"


def visibility(state: str, withdrawn: bool = False) -> str:
    """Who finds a case: nobody (withdrawn content, even archived since: the read rule keeps it for
    ``security.withdrawn_readers``, search shows it to none), the archived readers, or every reader."""
    return "hidden" if state in HIDDEN_STATES or withdrawn else "archived" if state in ARCHIVED_STATES else "live"


def entry_facts(case: Any, document: dict[str, Any], tier: str, state: str, day: date | None = None) -> str:
    """The fact tokens of one entry (see ``SearchEntry``); ``day`` is the day its version was published."""
    # Joint tokens, so a viewer's query names one selective token per kind of case instead of intersecting
    # tier, classification and department tokens that each hold a large share of the index.
    tokens = [fact("a", f"{case['classification']}|{tier}"),
              fact("b", f"{case['classification']}|{case['department']}|{tier}"),
              fact("t", tier), fact("c", case["classification"]), fact("d", case["department"]),
              fact("u", case["owner_id"]), fact("u", case["author_id"]), fact("i", case["id"]),
              fact("l", case["library"]), fact("s", document.get("scenario") or ""),
              fact("o", document.get("outcome") or ""), fact("v", visibility(state, case.get("withdrawn_at") is not None)),
              fact("e", state), *date_facts(day)]
    tokens += [fact("g", f"{facet}={value}") for facet, values in (document.get("tags") or {}).items()
               for value in values]
    return " ".join(dict.fromkeys(tokens))


def index_key(secret: bytes) -> bytes:
    """The key hashed terms are made with (derived, so the audit key itself never keys anything else)."""
    return hmac.digest(secret, b"casebook search index terms", "sha256")


@lru_cache(maxsize=1 << 18)
def hashed(key: bytes, term: str) -> str:
    return "h" + hmac.digest(key, term.encode(), "sha256")[:10].hex()


def hashes_terms(policy: Policy, classification: str, tier: str) -> bool:
    """Whether an entry holds keyed hashes instead of words: every tier of a classification encrypted at rest
    (``security.encrypted_classifications``: even a ranged rendering quotes most of the text), and the exact tiers
    of the highest classification."""
    return classification in policy.doc.security.encrypted_classifications or \
        (classification == policy.doc.classifications[-1] and stored.is_exact(tier))


def entry_terms(policy: Policy, key: bytes, document: dict[str, Any], classification: str, tier: str,
                memo: dict[str, list[Any]] | None = None) -> str:
    """The indexed text of one rendered document: its words, or their keyed hashes for an exact tier of a case
    of the highest classification. ``memo`` remembers each text's words as indexed (joined, and hashed once
    asked) for many documents sharing texts."""
    texts = [text for _path, text in text_fields(document)]
    texts += [str(value) for values in (document.get("tags") or {}).values() for value in values]
    hashes = hashes_terms(policy, classification, tier)
    out: list[str] = []
    for text in texts:
        found = memo.get(text) if memo is not None else None
        if found is None:
            words = indexed_words(text)
            found = [words, " ".join(words), None]
            if memo is not None:
                memo[text] = found
        if hashes and found[2] is None:
            found[2] = " ".join(hashed(key, w) for w in found[0])
        part = found[2] if hashes else found[1]
        if part:
            out.append(part)
    return " ".join(out)


SEAL_AS = "_seal_as"   # a built rendering row's classification, read (and dropped) when it is written
#: Texts whose indexed words an indexer remembers (a seed's pool texts are a few thousand); past this the memo starts
#: again, so a long-running server's memory does not grow with every text it ever publishes.
WORDS_MEMO_MAX = 50_000


class Indexer:
    """Builds index rows for published versions (used by the publish listener, the backfill and the seeder)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.key = index_key(ctx.audit.key)
        self.words: dict[str, list[Any]] = {}
        self.findings: dict[str, Any] = {}
        self.rendered: dict[Any, Any] = {}

    def rows(self, case: Any, version_no: int, document: dict[str, Any], classification: str,
             patches: dict[str, dict[str, Any]], state: str) -> list[dict[str, Any]]:
        """One entry per display tier; ``case`` holds the row facts (id, classification, department, owner_id,
        author_id, library)."""
        if len(self.words) > WORDS_MEMO_MAX:
            self.words.clear()
        tags = "\n".join(f"{facet}={value}" for facet, values in sorted((document.get("tags") or {}).items())
                         for value in values)
        day = published_day(case.get("published_at"), self.ctx.clock.tz)
        return [{"case_id": case["id"], "tier": tier, "version_no": version_no,
                 "terms": entry_terms(self.policy, self.key, stored.apply_patch(document, patch), classification,
                                      tier, self.words),
                 "facts": entry_facts(case, document, tier, state, day), "tags": tags}
                for tier, patch in patches.items()]

    def index_version(self, conn: Connection, case_id: int, version_no: int, state: str | None = None) -> None:
        """Replace a case's entries with those of ``version_no`` (its published version)."""
        self.index_versions(conn, [(case_id, version_no, state)])

    def index_versions(self, conn: Connection, items: list[tuple[int, int, str | None]]) -> None:
        """``index_version`` for many cases at once (a job's batch of publications): a handful of statements
        whatever the number of cases. ``items``: (case id, version number, state or None for the row's)."""
        if not items:
            return
        ids = [case_id for case_id, _, _ in items]
        wanted = {(case_id, number) for case_id, number, _ in items}
        documents = {(r.case_id, r.number): r.document for r in conn.execute(
            select(VERSIONS.c.case_id, VERSIONS.c.number, VERSIONS.c.document).where(VERSIONS.c.case_id.in_(ids)))
            if (r.case_id, r.number) in wanted}
        rows = {r.id: r._mapping for r in conn.execute(select(CASES).where(CASES.c.id.in_(ids)))}
        patches: dict[tuple[int, int], dict[str, Any]] = {}
        for r in conn.execute(select(stored.RENDERINGS.c.case_id, stored.RENDERINGS.c.version_no,
                                     stored.RENDERINGS.c.tier, stored.RENDERINGS.c.patch)
                              .where(stored.RENDERINGS.c.case_id.in_(ids))):
            if (r.case_id, r.version_no) in wanted:
                patches.setdefault((r.case_id, r.version_no), {})[r.tier] = r.patch
        entries = []
        for case_id, number, state in items:
            row, document = rows[case_id], documents[(case_id, number)]
            classification = document.get("classification") or row["classification"]
            if (case_id, number) not in patches:  # a version written before renderings were stored
                stored.store_version(conn, self.policy, case_id, number, document, classification,
                                     now=self.ctx.clock.now())
                patches[(case_id, number)] = {r.tier: r.patch for r in conn.execute(
                    select(stored.RENDERINGS.c.tier, stored.RENDERINGS.c.patch).where(
                        stored.RENDERINGS.c.case_id == case_id, stored.RENDERINGS.c.version_no == number))}
            entries += self.rows(dict(row) | {"classification": classification}, number, document, classification,
                                 patches[(case_id, number)], state or row["state"])
        unindex(conn, ids)
        bulk_insert(conn, ENTRIES, entries)
        refresh_ratings(conn, ids)
        similar.remember(conn, [(case_id, number) for case_id, number, _ in items])

    def build_versions(self, versions: Iterable[tuple[int, int, dict[str, Any]]], cases: dict[int, dict[str, Any]]
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """The findings, rendering and entry rows of new versions (no store access: seed workers build them)."""
        batch = [(cid, no, doc, doc.get("classification") or cases[cid]["classification"]) for cid, no, doc in versions]
        findings, renderings = stored.bulk_rows(self.policy, batch, self.ctx.clock.now(), self.findings,
                                                self.rendered)
        classes = {(cid, no): classification for cid, no, _doc, classification in batch}
        for r in renderings:  # which classification seals it at rest (write_built; casebook.core.crypto)
            r[SEAL_AS] = classes[(r["case_id"], r["version_no"])]
        patches: dict[tuple[int, int], dict[str, Any]] = {}
        for r in renderings:
            patches.setdefault((r["case_id"], r["version_no"]), {})[r["tier"]] = r["patch"]
        entries = []
        for cid, no, doc, classification in batch:
            case = cases[cid]
            if case["published_version_no"] != no:
                continue
            entries += self.rows(case | {"classification": classification}, no, doc, classification,
                                 patches[(cid, no)], case["state"])
        entries.sort(key=lambda e: cases[e["case_id"]]["published_at"])
        return findings, renderings, entries

    def write_built(self, conn: Connection, findings: list[dict[str, Any]], renderings: list[dict[str, Any]],
                    entries: list[dict[str, Any]]) -> None:
        """Store what ``build_versions`` built; renderings of an encrypted classification are sealed here, where
        the connection (and so the keyring) is at hand."""
        for r in renderings:
            r["patch"] = seal_for(conn, r.pop(SEAL_AS, None), r["patch"])
        bulk_insert(conn, stored.FINDINGS, findings)
        bulk_insert(conn, stored.RENDERINGS, renderings)
        insert_entries(conn, entries)
        refresh_ratings(conn, list(dict.fromkeys(e["case_id"] for e in entries)))
        similar.remember(conn, [(e["case_id"], e["version_no"]) for e in entries])

    def bind_built(self, engine: Engine, findings: list[dict[str, Any]], renderings: list[dict[str, Any]],
                   entries: list[dict[str, Any]], fingerprints: dict[tuple[int, int], bytes]) -> "BoundBuilt":
        """What ``write_built`` stores, bound for the engine's dialect and sealed with its keyring without a
        connection (a seeding worker process), for new cases: their similar-cases signatures are computed here
        from the published versions' ``fingerprints`` {(case id, number): fingerprint}."""
        for r in renderings:
            r["patch"] = seal_for(engine, r.pop(SEAL_AS, None), r["patch"])
        published = {e["case_id"]: e["version_no"] for e in entries}
        signatures, bands = similar.signature_rows({cid: (no, fingerprints[(cid, no)]) for cid, no in published.items()})
        dialect = engine.dialect
        return BoundBuilt(bulk_bind(dialect, stored.FINDINGS, findings), bulk_bind(dialect, stored.RENDERINGS, renderings),
                          bulk_bind(dialect, ENTRIES, entries), list(published),
                          bulk_bind(dialect, similar.SIGNATURES, signatures), bulk_bind(dialect, similar.BANDS_TABLE, bands))

    def write_bound(self, conn: Connection, built: "BoundBuilt") -> None:
        """Store what ``bind_built`` bound (new cases only: nothing of theirs is replaced)."""
        bulk_insert_bound(conn, stored.FINDINGS, built.findings)
        bulk_insert_bound(conn, stored.RENDERINGS, built.renderings)
        insert_entries(conn, built.entries)
        refresh_ratings(conn, built.indexed)
        bulk_insert_bound(conn, similar.SIGNATURES, built.signatures)
        bulk_insert_bound(conn, similar.BANDS_TABLE, built.bands)


class BoundBuilt(NamedTuple):
    """A batch of new versions' findings, renderings, index entries (of the ``indexed`` cases) and similar-cases
    rows, bound (``casebook.core.db.bulk_bind``)."""

    findings: BoundRows | None
    renderings: BoundRows | None
    entries: BoundRows | None
    indexed: list[int]
    signatures: BoundRows | None
    bands: BoundRows | None


def unindex(conn: Connection, case_ids: int | list[int]) -> None:
    """Remove the entries of one case or of many."""
    ids = [case_ids] if isinstance(case_ids, int) else case_ids
    conn.execute(delete(SEARCH_RATINGS).where(SEARCH_RATINGS.c.entry_id.in_(
        select(ENTRIES.c.id).where(ENTRIES.c.case_id.in_(ids)))))
    conn.execute(delete(ENTRIES).where(ENTRIES.c.case_id.in_(ids)))


def refresh_ratings(conn: Connection, case_ids: list[int]) -> None:
    """The average rating of these cases on each of their entries (what ``sort=rating`` orders by), so a
    search reads one narrow row per match instead of the entry and its case's ratings."""
    if not case_ids:
        return
    entry_ids = select(ENTRIES.c.id).where(ENTRIES.c.case_id.in_(case_ids))
    conn.execute(delete(SEARCH_RATINGS).where(SEARCH_RATINGS.c.entry_id.in_(entry_ids)))
    conn.execute(SEARCH_RATINGS.insert().from_select(
        ["entry_id", "rating"],
        select(ENTRIES.c.id, func.avg(RATINGS.c.stars)).join(RATINGS, RATINGS.c.case_id == ENTRIES.c.case_id)
        .where(ENTRIES.c.case_id.in_(case_ids)).group_by(ENTRIES.c.id)))


def insert_entries(conn: Connection, entries: list[dict[str, Any]] | BoundRows | None) -> None:
    """Many new entries at once (seeding, backfills). On SQLite the full-text rows are added by one
    INSERT … SELECT after the entries instead of the per-row trigger (about 4x cheaper for the same words);
    the trigger is dropped and re-created inside this transaction, so no other connection ever sees it gone."""
    if not entries:
        return
    if conn.dialect.name != "sqlite":
        _insert(conn, entries)
        return
    trigger = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                   "AND name = 'search_entries_ai'").scalar()
    if trigger is None:
        _insert(conn, entries)
        return
    first = (conn.execute(select(func.max(ENTRIES.c.id))).scalar() or 0) + 1
    conn.exec_driver_sql("DROP TRIGGER search_entries_ai")
    try:
        _insert(conn, entries)
        conn.exec_driver_sql("INSERT INTO search_fts(rowid, terms, facts) SELECT id, terms, facts "
                             "FROM search_entries WHERE id >= ?", (first,))
    finally:
        conn.exec_driver_sql(trigger)


@contextmanager
def bulk_entries(conn: Connection) -> Iterator[None]:
    """PostgreSQL: while many entries are written at once (seeding), let them wait in the GIN index's pending list
    and go into the index in large sorted batches (``fastupdate``: several times cheaper than one index insertion per
    word of each entry); afterwards the list is emptied and switched off again (migration 0022), so no search reads
    it. Each step commits on its own; the caller's transactions go in between. SQLite: nothing to do."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with conn.begin():
        conn.exec_driver_sql(f"ALTER INDEX {GIN_INDEX} SET (fastupdate = on)")
    try:
        yield
    finally:
        with conn.begin():
            conn.exec_driver_sql(f"ALTER INDEX {GIN_INDEX} SET (fastupdate = off)")
            conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{GIN_INDEX}')")


def _insert(conn: Connection, entries: list[dict[str, Any]] | BoundRows) -> None:
    if isinstance(entries, BoundRows):
        bulk_insert_bound(conn, ENTRIES, entries)
    else:
        bulk_insert(conn, ENTRIES, entries)


_indexers: dict[int, Indexer] = {}


def indexer_for(ctx: AppContext) -> Indexer:
    found = _indexers.get(id(ctx))
    if found is None or found.ctx is not ctx:
        found = _indexers[id(ctx)] = Indexer(ctx)
    return found


def follow_publication(t: hooks.TransitionEvent) -> None:
    """A transition of an indexed case (other than a publication: ``index_publications``) moves its entries'
    state token (the ``state`` filter) and, when who may find it changes (taken down, archived or back), its
    visibility token."""
    if t.dest == S.PUBLISHED and t.source != S.PUBLISHED:   # indexed by ``index_publications``
        return
    if t.source == t.dest or t.case.published_version_no is None:  # never published: nothing indexed
        return
    was = t.dest != S.WITHDRAWN and t.case.withdrawn_at is not None
    old, new = fact("v", visibility(t.source, was)), fact("v", visibility(t.dest, was or t.dest == S.WITHDRAWN))
    _MOVE_TOKENS.execute(t.conn, {"b_case": t.case.id, "b_old_e": fact("e", t.source), "b_new_e": fact("e", t.dest),
                                  "b_old_v": old, "b_new_v": new})  # visibility unchanged: a no-op replace


def index_publications(applied: list[hooks.TransitionEvent]) -> None:
    """Versions that became the published one are indexed in the transaction that published them, all of one
    call's at once (``Indexer.index_versions``)."""
    published = [t for t in applied if t.dest == S.PUBLISHED and t.source != S.PUBLISHED]
    if published:
        indexer_for(published[0].service.ctx).index_versions(
            published[0].conn, [(t.case.id, t.case.current_version_no, t.dest) for t in published])


#: The state and visibility tokens of a case's entries, moved in one cached statement (transitions are the hot path).
_MOVE_TOKENS = Prepared(ENTRIES.update().where(ENTRIES.c.case_id == bindparam("b_case")).values(
    facts=func.replace(func.replace(ENTRIES.c.facts, bindparam("b_old_e"), bindparam("b_new_e")),
                       bindparam("b_old_v"), bindparam("b_new_v"))))


def _unindexed(conn: Connection, after: int, limit: int) -> list[tuple[int, int]]:
    """(case id, published version) of cases with a published version and no index entry, after ``after``."""
    from sqlalchemy import exists

    rows = conn.execute(select(CASES.c.id, CASES.c.published_version_no)
                        .where(CASES.c.published_version_no.is_not(None), CASES.c.id > after,
                               ~exists().where(ENTRIES.c.case_id == CASES.c.id))
                        .order_by(CASES.c.id).limit(limit)).all()
    return [(r.id, r.published_version_no) for r in rows]


def backfill(ctx: AppContext, *, batch: int = 200, progress: Any = None) -> dict[str, int]:
    """Re-detect every version whose findings are missing or from an older analyzer (re-rendering its tiers and
    re-indexing it when it is its case's published version), then index published versions never indexed, then
    fingerprint for "similar cases" the published versions without a signature (``library.similar_index``).

    A batch per transaction: stopping half-way loses at most one batch, and running again continues where it
    stopped (what is done no longer matches); a second run finds nothing to do. ``progress(total)`` is called
    once with the number of versions to re-detect, then ``progress(None, n)`` after each batch."""
    from sqlalchemy import tuple_

    indexer = Indexer(ctx)
    counts = {"detected": 0, "indexed": 0}
    with ctx.engine.connect() as conn:
        total = len(stored.stale_versions(conn, ctx.policy, (0, 0), 10**9))
    if progress:
        progress(total)
    after = (0, 0)
    while True:
        with ctx.engine.begin() as conn:
            pairs = stored.stale_versions(conn, ctx.policy, after, batch)
            if not pairs:
                break
            facts = {r.id: r for r in conn.execute(select(CASES.c.id, CASES.c.classification,
                                                          CASES.c.published_version_no)
                                                   .where(CASES.c.id.in_({c for c, _ in pairs})))}
            documents = {(r.case_id, r.number): r.document for r in conn.execute(
                select(VERSIONS.c.case_id, VERSIONS.c.number, VERSIONS.c.document)
                .where(tuple_(VERSIONS.c.case_id, VERSIONS.c.number).in_(pairs)))}
            for case_id, number in pairs:
                document = documents[(case_id, number)]
                stored.store_version(conn, ctx.policy, case_id, number, document,
                                     document.get("classification") or facts[case_id].classification,
                                     now=ctx.clock.now(), memo=indexer.findings)
                if facts[case_id].published_version_no == number:
                    indexer.index_version(conn, case_id, number)
                    counts["indexed"] += 1
            counts["detected"] += len(pairs)
            after = pairs[-1]
        if progress:
            progress(None, len(pairs))
    last = 0
    while True:
        with ctx.engine.begin() as conn:
            todo = _unindexed(conn, last, batch)
            for case_id, number in todo:
                indexer.index_version(conn, case_id, number)
        if not todo:
            break
        counts["indexed"] += len(todo)
        last = todo[-1][0]
    counts["similar"] = similar.backfill(ctx, batch=batch)
    return counts

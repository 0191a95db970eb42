"""Writing the search index: when a version is published, one entry per display tier with the terms of that
tier's stored rendering (so a viewer only ever matches text they may see), and the version's tags.

Terms are jieba's search-mode words of the Simplified, lower-cased text (Traditional and Simplified fold to
one form), separated by spaces for SQLite FTS5 and PostgreSQL's ``simple`` configuration alike. A tier that
shows a case of the highest classification exactly is indexed as keyed hashes of its terms: the index then
holds none of that case's exact text, and a query's terms are hashed the same way to match it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.crypto import seal_for
from casebook.core.db import bulk_insert
from casebook.core.textnorm import to_simplified
from lifecycle import hooks
from lifecycle import states as S
from lifecycle.document import text_fields
from lifecycle.models import Case, CaseVersion
from library.models import SearchEntry
from policies.loader import Policy
from redaction import stored

ENTRIES, CASES, VERSIONS = SearchEntry.__table__, Case.__table__, CaseVersion.__table__
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


def fact(kind: str, value: Any) -> str:
    """A fact token: letters and digits only (every tokenizer keeps it whole), never a word of any text."""
    if kind in ("t", "u", "i", "v"):  # tiers, user and case ids, visibility: already letters and digits
        return f"q{kind}{value}"
    return f"q{kind}" + hashlib.blake2b(str(value).encode(), digest_size=5).hexdigest()


def visibility(state: str, withdrawn: bool = False) -> str:
    """Who finds a case: nobody (withdrawn content, even archived since: the read rule keeps it for
    ``security.withdrawn_readers``, search shows it to none), the archived readers, or every reader."""
    return "hidden" if state in HIDDEN_STATES or withdrawn else "archived" if state in ARCHIVED_STATES else "live"


def entry_facts(case: Any, document: dict[str, Any], tier: str, state: str) -> str:
    """The fact tokens of one entry (see ``SearchEntry``)."""
    # Joint tokens, so a viewer's query names one selective token per kind of case instead of intersecting
    # tier, classification and department tokens that each hold a large share of the index.
    tokens = [fact("a", f"{case['classification']}|{tier}"),
              fact("b", f"{case['classification']}|{case['department']}|{tier}"),
              fact("t", tier), fact("c", case["classification"]), fact("d", case["department"]),
              fact("u", case["owner_id"]), fact("u", case["author_id"]), fact("i", case["id"]),
              fact("l", case["library"]), fact("s", document.get("scenario") or ""),
              fact("o", document.get("outcome") or ""), fact("v", visibility(state, case.get("withdrawn_at") is not None))]
    tokens += [fact("g", f"{facet}={value}") for facet, values in (document.get("tags") or {}).items()
               for value in values]
    return " ".join(dict.fromkeys(tokens))


def index_key(secret: bytes) -> bytes:
    """The key hashed terms are made with (derived, so the audit key itself never keys anything else)."""
    return hmac.digest(secret, b"casebook search index terms", "sha256")


def hashed(key: bytes, term: str) -> str:
    return "h" + hmac.digest(key, term.encode(), "sha256")[:10].hex()


def hashes_terms(policy: Policy, classification: str, tier: str) -> bool:
    """Whether an entry holds keyed hashes instead of words: every tier of a classification encrypted at rest
    (``security.encrypted_classifications``: even a ranged rendering quotes most of the text), and the exact tiers
    of the highest classification."""
    return classification in policy.doc.security.encrypted_classifications or \
        (classification == policy.doc.classifications[-1] and stored.is_exact(tier))


def entry_terms(policy: Policy, key: bytes, document: dict[str, Any], classification: str, tier: str,
                memo: dict[str, list[str]] | None = None) -> str:
    """The indexed text of one rendered document: its words, or their keyed hashes for an exact tier of a case
    of the highest classification."""
    out: list[str] = []
    texts = [text for _path, text in text_fields(document)]
    texts += [str(value) for values in (document.get("tags") or {}).values() for value in values]
    for text in texts:
        found = memo.get(text) if memo is not None else None
        if found is None:
            found = indexed_words(text)
            if memo is not None:
                memo[text] = found
        out += found
    if hashes_terms(policy, classification, tier):
        out = [hashed(key, w) for w in out]
    return " ".join(out)


class Indexer:
    """Builds index rows for published versions (used by the publish listener, the backfill and the seeder)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.key = index_key(ctx.audit.key)
        self.words: dict[str, list[str]] = {}
        self.findings: dict[str, Any] = {}
        self.rendered: dict[Any, Any] = {}

    def rows(self, case: Any, version_no: int, document: dict[str, Any], classification: str,
             patches: dict[str, dict[str, Any]], state: str) -> list[dict[str, Any]]:
        """One entry per display tier; ``case`` holds the row facts (id, classification, department, owner_id,
        author_id, library)."""
        tags = "\n".join(f"{facet}={value}" for facet, values in sorted((document.get("tags") or {}).items())
                         for value in values)
        return [{"case_id": case["id"], "tier": tier, "version_no": version_no,
                 "terms": entry_terms(self.policy, self.key, stored.apply_patch(document, patch), classification,
                                      tier, self.words),
                 "facts": entry_facts(case, document, tier, state), "tags": tags}
                for tier, patch in patches.items()]

    def index_version(self, conn: Connection, case_id: int, version_no: int, state: str | None = None) -> None:
        """Replace a case's entries with those of ``version_no`` (its published version)."""
        document = conn.execute(select(VERSIONS.c.document).where(VERSIONS.c.case_id == case_id,
                                                                  VERSIONS.c.number == version_no)).scalar_one()
        row = conn.execute(select(CASES).where(CASES.c.id == case_id)).one()._mapping
        classification = document.get("classification") or row["classification"]
        patches = {r.tier: r.patch for r in conn.execute(select(stored.RENDERINGS.c.tier, stored.RENDERINGS.c.patch)
                                                         .where(stored.RENDERINGS.c.case_id == case_id,
                                                                stored.RENDERINGS.c.version_no == version_no))}
        if not patches:  # a version written before renderings were stored
            stored.store_version(conn, self.policy, case_id, version_no, document, classification,
                                 now=self.ctx.clock.now())
            return self.index_version(conn, case_id, version_no, state)
        unindex(conn, case_id)
        bulk_insert(conn, ENTRIES, self.rows(dict(row) | {"classification": classification}, version_no, document,
                                             classification, patches, state or row["state"]))

    def write_versions(self, conn: Connection, versions: Iterable[tuple[int, int, dict[str, Any]]],
                       cases: dict[int, dict[str, Any]]) -> None:
        """Bulk: findings and renderings of new versions, and index entries of the published ones (seeding)."""
        versions = list(versions)
        batch = [(cid, no, doc, doc.get("classification") or cases[cid]["classification"]) for cid, no, doc in versions]
        findings, renderings = stored.bulk_rows(self.policy, batch, self.ctx.clock.now(), self.findings,
                                                    self.rendered)
        classes = {(cid, no): classification for cid, no, _doc, classification in batch}
        for r in renderings:  # encrypted at rest as their version (casebook.core.crypto)
            r["patch"] = seal_for(conn, classes[(r["case_id"], r["version_no"])], r["patch"])
        bulk_insert(conn, stored.FINDINGS, findings)
        bulk_insert(conn, stored.RENDERINGS, renderings)
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
        bulk_insert(conn, ENTRIES, sorted(entries, key=lambda e: cases[e["case_id"]]["published_at"]))


def unindex(conn: Connection, case_id: int) -> None:
    conn.execute(delete(ENTRIES).where(ENTRIES.c.case_id == case_id))


_indexers: dict[int, Indexer] = {}


def indexer_for(ctx: AppContext) -> Indexer:
    found = _indexers.get(id(ctx))
    if found is None or found.ctx is not ctx:
        found = _indexers[id(ctx)] = Indexer(ctx)
    return found


def follow_publication(t: hooks.TransitionEvent) -> None:
    """A version becoming the published one is indexed in the same transaction as the publish."""
    if t.dest == S.PUBLISHED and t.source != S.PUBLISHED:
        indexer_for(t.service.ctx).index_version(t.conn, t.case.id, t.case.current_version_no, t.dest)
    elif visibility(t.source) != visibility(t.dest):  # taken down, archived or back: only its visibility token
        was = t.dest != S.WITHDRAWN and t.conn.execute(
            select(CASES.c.withdrawn_at).where(CASES.c.id == t.case.id)).scalar() is not None
        old, new = visibility(t.source, was), visibility(t.dest, was or t.dest == S.WITHDRAWN)
        if old == new:
            return
        old, new = fact("v", old), fact("v", new)
        t.conn.execute(ENTRIES.update().where(ENTRIES.c.case_id == t.case.id)
                       .values(facts=func.replace(ENTRIES.c.facts, old, new)))



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
    re-indexing it when it is its case's published version), then index published versions never indexed.

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
    return counts

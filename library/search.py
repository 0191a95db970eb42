"""Search over the full-text index (``library.index``): SQLite FTS5 or PostgreSQL
tsvector + GIN, one entry per case and display tier.

A query only ever meets the entries of the viewer's own display tier for each case (worked out in SQL from
the case's classification, department and the viewer's relation to it), and only cases the viewer may read:
so matching, ranking, counts, facets and snippets see exactly the text the viewer is shown, and a figure the
viewer sees only as a range cannot be found by searching for it. Readers find the published version, also
while the next one is in review; archived (and retired) cases only by the roles policy names, marked, and
never among similar cases (``library.similar``: an LSH index over stored fingerprints, its hits kept to the
cases the viewer may read). Nothing here runs the analyzer or renders a case: titles and snippets come from
the stored renderings.
"""

from __future__ import annotations

import json
import math
import re
from time import perf_counter
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ARRAY, Integer, any_, column, func, literal, literal_column, select, table
from sqlalchemy.engine import Connection

from access.grants import APPROVED, AccessRequest
from casebook.core.db import reading
from casebook.core.context import AppContext
from casebook.core.errors import InvalidInput, Problem
from casebook.core.textnorm import to_simplified
from casebook.core.users import Actor
from library.usage import record_search
from library.index import (ARCHIVED_STATES, ENTRIES, FIRST_PERIODS, INDEXED_TSV, MAX_PERIODS,
                           PERIOD_BITS, SEARCH_RATINGS,
                           date_range_facts, fact, hashed, index_key, period_token, query_words)
from lifecycle.document import text_fields
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import Rating
from redaction.stored import RENDERINGS, apply_patch, tier_key
from redaction.tiers import Audience

CASES, VERSIONS, RATINGS, GRANTS = Case.__table__, CaseVersion.__table__, Rating.__table__, AccessRequest.__table__
SORTS = ("relevance", "newest", "rating")
MAX_PER_PAGE = 100
#: The most matches one search sorts, counts and takes facets over: the newest ones. Bounds a broad query's work
#: (a topic word can match a tenth of a large library) without ever leaving out a match of a narrower one.
MATCH_WINDOW = 1000


@dataclass(frozen=True)
class Hit:
    key: str
    title: str
    snippet: str
    score: float
    state: str
    archived: bool = False
    library: str = ""
    published_at: str | None = None
    rating: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "snippet": self.snippet, "score": round(self.score, 3),
                "state": self.state, "archived": self.archived, "library": self.library,
                "published_at": self.published_at,
                "rating": None if self.rating is None else round(self.rating, 2)}


@dataclass(frozen=True)
class Filters:
    library: str | None = None
    scenario: str | None = None
    outcome: str | None = None
    state: str | None = None
    department: str | None = None
    published_from: date | None = None
    published_to: date | None = None


@dataclass
class Results:
    total: int
    items: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    #: "eq": ``total`` is the number of matches; "gte": there are more, ``total`` and the facets count the newest
    #: ``MATCH_WINDOW`` of them (the names Elasticsearch uses).
    total_relation: str = "eq"

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "total_relation": self.total_relation, "page": self.page,
                "per_page": self.per_page, "items": [h.as_json() for h in self.items], "facets": self.facets}

    # Lists of hits were the answer before paging: callers iterating over results keep working.
    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Hit:
        return self.items[i]


def terms(query: str) -> list[str]:
    """Search terms, as the index holds them (``library.index.query_words``)."""
    return query_words(query)


# ----- a boolean query over words and fact tokens, rendered for FTS5 or tsquery -----
Node = tuple[Any, ...]


def _tok(token: str) -> Node:
    return ("tok", token)


def _all(*nodes: Node | None) -> Node:
    return ("and", [n for n in nodes if n is not None])


def _any(nodes: list[Node]) -> Node:
    return ("or", nodes) if nodes else ("none",)


def _but(node: Node, without: Node | None) -> Node:
    return node if without is None else ("not", node, without)


def _render(node: Node, dialect: str) -> str:
    kind = node[0]
    pg = dialect == "postgresql"
    if kind == "tok":
        w = node[1]
        return "'" + w.replace("\\", "\\\\").replace("'", "''") + "'" if pg else '"' + w.replace('"', '""') + '"'
    if kind == "none":
        return _render(_tok(fact("v", "none")), dialect)  # a token no entry holds
    if kind == "not":
        return f"({_render(node[1], dialect)} & !{_render(node[2], dialect)})" if pg else \
            f"({_render(node[1], dialect)} NOT {_render(node[2], dialect)})"
    parts = [_render(n, dialect) for n in node[1]]
    if len(parts) == 1:
        return parts[0]
    if kind == "and":
        joiner = " & " if pg else " AND "
    else:
        joiner = " | " if pg else " OR "
    return "(" + joiner.join(parts) + ")"


# ----- who matches which entry: the viewer's tier of each case, and only cases the viewer may read -----
def _tier_key(policy: Any, clearance: str, classification: str, own: bool, author: bool) -> str:
    return tier_key(policy, Audience(clearance, classification, own, author))


def _audience(ctx: AppContext, conn: Connection, actor: Actor) -> Node:
    """``can_view`` (or an approved access request) and ``audience_for`` as fact tokens: for each kind of case
    (classification; the viewer's department or another; the viewer's own or not) the one token of the entries
    at the viewer's tier, so each readable case matches exactly one entry."""
    policy = ctx.policy
    levels = policy.doc.classifications
    if actor.is_system:
        top = policy.doc.clearances[-1]
        return _any([_tok(fact("a", f"{k}|{_tier_key(policy, top, k, True, True)}")) for k in levels])
    me = _tok(fact("u", actor.user_id)) if actor.user_id is not None else None
    dept = _tok(fact("d", actor.department)) if actor.department else None
    reads = policy.may(actor.role, "case.read", own=False)
    role = policy.role(actor.role)
    granted = [row[0] for row in conn.execute(select(GRANTS.c.case_id).where(
        GRANTS.c.requester == actor.username, GRANTS.c.status == APPROVED))] if reads else []

    def kind(k: str, tier: str, same: bool | None) -> Node:
        """Entries of class-k cases at ``tier``: in the viewer's department (True), outside it (False), any."""
        if same:
            return _tok(fact("b", f"{k}|{actor.department}|{tier}"))
        node = _tok(fact("a", f"{k}|{tier}"))
        return _but(node, dept) if same is False else node

    branches: list[Node] = []
    for k in levels:
        readable = reads and policy.clearance_rank(actor.clearance) >= policy.classification_rank(k)
        scoped = k != levels[0] and role.department_scoped
        tiers = {(own, author): _tier_key(policy, actor.clearance, k, own, author)
                 for own in (True, False) for author in (True, False)}
        if me is not None:  # own cases: readable whatever the classification
            if tiers[(True, True)] == tiers[(False, True)] or dept is None:
                branches.append(_all(me, kind(k, tiers[(False, True)], None)))
            else:
                branches += [_all(me, kind(k, tiers[(True, True)], True)),
                             _all(me, kind(k, tiers[(False, True)], False))]
        if not readable:
            continue
        same, other = tiers[(True, False)], tiers[(False, False)]
        if dept is not None and (scoped or same != other):
            branches.append(_but(kind(k, same, True), me))
        if scoped:
            if granted:
                branches.append(_but(_all(kind(k, other, False),
                                          _any([_tok(fact("i", case_id)) for case_id in granted])), me))
        else:
            branches.append(_but(kind(k, other, None if (dept is None or same == other) else False), me))
    return _any(branches)


def may_find_archived(ctx: AppContext, actor: Actor) -> bool:
    return actor.is_system or actor.role in ctx.policy.doc.security.archived_read_roles


def _visible(ctx: AppContext, actor: Actor, node: Node, *, recommend: bool = False) -> Node:
    """Live cases; archived (and retired) ones too for the roles policy names, never among recommendations.
    Said as exclusions: the excluded tokens are rare, ``live`` is on nearly every entry."""
    hidden = ["hidden"] + (["archived"] if recommend or not may_find_archived(ctx, actor) else [])
    return _but(node, _any([_tok(fact("v", v)) for v in hidden]))


def _word_groups(key: bytes, words_: list[str]) -> Node:
    """Every query word, as itself or as its keyed hash (how exact tiers of the most confidential cases are
    indexed)."""
    return _all(*(_any([_tok(w), _tok(hashed(key, w))]) for w in words_))


def _check(ctx: AppContext, filters: Filters, sort: str, page: int, per_page: int) -> None:
    p = ctx.policy.doc
    problems = []
    for name, allowed in (("library", list(p.libraries)), ("scenario", p.scenarios), ("outcome", p.outcomes)):
        value = getattr(filters, name)
        if value is not None and value not in allowed:
            problems.append(Problem.of(name, "err_one_of", allowed=[ctx.policy.coded(a) for a in allowed]))
    if sort not in SORTS:
        problems.append(Problem.of("sort", "err_one_of", allowed=list(SORTS)))
    if page < 1:
        problems.append(Problem.of("page", "err_at_least", min=1))
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(Problem.of("per_page", "err_between", low=1, high=MAX_PER_PAGE))
    if filters.published_from and filters.published_to and filters.published_to < filters.published_from:
        problems.append(Problem.of("published_to", "err_not_before", other="published_from"))
    if problems:
        raise InvalidInput(problems, "search")


def _pg_match(expression: Node) -> Any:
    """``expression`` against PostgreSQL's GIN index (its indexed expression, ``library.index.INDEXED_TSV``)."""
    tsq = func.to_tsquery(literal_column("'simple'"), literal(_render(expression, "postgresql")))
    return literal_column(INDEXED_TSV).op("@@")(tsq)


def _pg_window(conn: Connection, expression: Node, need: int) -> list[int]:
    """The ids of the newest ``need`` entries matching ``expression``, newest first, on PostgreSQL.

    A GIN index hands back every match unordered: ``ORDER BY id DESC LIMIT n`` then reads and sorts every match,
    or, once the table has statistics, the planner walks the primary key newest first and checks each row's
    vector (measured at 100,000 cases: 540-700 ms for a tag, against 45-60 ms through the index). So the newest id
    periods (``library.index.PERIOD_BITS``) are searched first, each step's query ANDed with the OR of its periods'
    tokens (which the index holds) and the id range they cover (exact even were a period token also a word of
    some text); a step that does not fill the window moves on to older periods, sized from the density of matches
    seen so far. Once that would cover more than ``MAX_PERIODS`` periods (the period tokens' lists then cost the
    index more than the query's own), the rest is searched in one query through the index. Each step's ids are
    older than the previous step's, so the concatenation is what one ordered query over the whole index gives."""
    top = conn.execute(select(func.max(ENTRIES.c.id))).scalar()
    if top is None:
        return []
    out: list[int] = []
    hi = top >> PERIOD_BITS                # the newest period not yet searched
    span = FIRST_PERIODS
    while hi >= 0 and len(out) < need:
        lo = hi - span + 1
        where = [ENTRIES.c.id < (hi + 1) << PERIOD_BITS]
        if lo <= 0 or (top >> PERIOD_BITS) - lo >= MAX_PERIODS:   # the rest at once
            lo = 0
            where.append(_pg_match(expression))
        else:
            where += [ENTRIES.c.id >= lo << PERIOD_BITS,
                      _pg_match(_all(expression, _any([_tok(period_token(p)) for p in range(lo, hi + 1)])))]
        # "id + 0": order by a value no index provides, so the planner takes the GIN index and sorts its matches
        # (tests/test_search_periods.py holds that plan) instead of walking the primary key.
        out += [int(i) for (i,) in conn.execute(select(ENTRIES.c.id).where(*where)
                                                .order_by((ENTRIES.c.id + 0).desc()).limit(need - len(out)))]
        searched = (top >> PERIOD_BITS) - lo + 1
        hi = lo - 1
        per_period = len(out) / searched
        span = max(2 * span, math.ceil((need - len(out)) / per_period * 1.25) if per_period else 4 * span)
    return out


class _Query:
    """One full-text query and the SQL around it, per dialect. Every filter is a token of the expression, so
    the index alone answers which entries match (no case row is read).

    ``window`` is the one evaluation a search makes: the newest matches, up to a bound (``MATCH_WINDOW``), with
    their relevance when the order needs it; the page, the total and the facet counts are then worked out from
    those entry ids (``ratings`` and ``facets`` read narrow rows by id). So a search's work grows with its
    matches up to the bound, never with the size of the library."""

    def __init__(self, ctx: AppContext, conn: Connection, expression: Node) -> None:
        self.ctx, self.conn = ctx, conn
        self.pg = conn.dialect.name == "postgresql"
        self.expression = expression
        self.q = literal(_render(expression, conn.dialect.name))
        if self.pg:
            self.source: Any = ENTRIES
            self.id = ENTRIES.c.id
            self.where: list[Any] = [_pg_match(expression)]
        else:
            fts = table("search_fts", column("rowid"))
            self.source, self.id = fts, fts.c.rowid
            self.where = [literal_column("search_fts").op("MATCH")(self.q)]

    def window(self, bound: int, offset: int = 0) -> list[int]:
        """The entry ids of the newest ``bound + 1`` matches (after ``offset`` newer ones), newest first (one more
        than the bound tells that there are more): the index walks the matches from the newest and stops at the
        limit (SQLite: FTS5 walks its rowids in order; PostgreSQL: ``_pg_window``)."""
        if self.pg:
            return _pg_window(self.conn, self.expression, offset + bound + 1)[offset:]
        return [int(i) for (i,) in self.conn.execute(
            select(self.id).select_from(self.source).where(*self.where).order_by(self.id.desc())
            .limit(bound + 1).offset(offset))]

    def relevance_of(self, ids: list[int], words: Node) -> dict[int, float]:
        """The relevance of these entries (a window) to the query words. Ranked by the words alone: the fact
        tokens of the full expression carry no weight in the rank, but SQLite's bm25 would read the whole
        posting list of each of them first (its document frequencies), a cost that grows with the library. On
        SQLite the words' matches are walked only over the window's id range, and bm25 runs for the window's ids
        only; on PostgreSQL ``ts_rank`` reads the window's vectors only."""
        if not ids:
            return {}
        words_q = literal(_render(words, self.conn.dialect.name))
        if self.pg:
            tsq = func.to_tsquery(literal_column("'simple'"), words_q)
            stmt = select(ENTRIES.c.id, func.ts_rank(literal_column("search_entries.tsv"), tsq)) \
                .where(self._among(ENTRIES.c.id, ids))
        else:
            rowid = literal_column("search_fts.rowid")
            stmt = select(rowid, -literal_column("bm25(search_fts, 1.0, 0.0)")).select_from(self.source).where(
                literal_column("search_fts").op("MATCH")(words_q), rowid.between(min(ids), max(ids)),
                self._among(literal_column("+search_fts.rowid"), ids))  # "+": checked per row, not a lookup per id
        return {int(i): float(score or 0) for i, score in self.conn.execute(stmt)}

    def _among(self, col: Any, ids: list[int]) -> Any:
        """``col`` is one of ``ids``, as one bound value (a JSON or integer array), not one per id: a window's
        thousand ids would otherwise be a thousand parameters to compile and bind."""
        if self.pg:
            return col == any_(literal(ids, ARRAY(Integer)))
        return col.in_(select(literal_column("value")).select_from(func.json_each(literal(json.dumps(ids)))))

    def ratings(self, ids: list[int]) -> dict[int, float]:
        """The average rating of these entries' cases (``search_ratings``; unrated entries are absent)."""
        if not ids:
            return {}
        return {int(i): float(r) for i, r in self.conn.execute(
            select(SEARCH_RATINGS.c.entry_id, SEARCH_RATINGS.c.rating).where(self._among(SEARCH_RATINGS.c.entry_id, ids)))}

    def facets(self, ids: list[int]) -> dict[str, dict[str, int]]:
        """Tag value counts over these entries (their ``tags`` lines: on SQLite from a covering index, so the
        wide entry rows are not read)."""
        if not ids:
            return {}
        lines = "\n".join(t for (t,) in self.conn.execute(select(ENTRIES.c.tags).where(self._among(ENTRIES.c.id, ids))) if t)
        out: dict[str, dict[str, int]] = {}
        for line, count in sorted(Counter(lines.split("\n") if lines else ()).items(),
                                  key=lambda kv: (kv[0].partition("=")[0], -kv[1], kv[0])):
            facet, _, value = line.partition("=")
            out.setdefault(facet, {})[value] = count
        return out


def _fact_filters(f: Filters, tags: dict[str, str] | None) -> list[Node]:
    """Filters and tags as tokens of the entries (state and publication day included: see ``library.index``)."""
    out = [_tok(fact(kind, value)) for kind, value in (("l", f.library), ("s", f.scenario), ("o", f.outcome),
                                                       ("d", f.department), ("e", f.state)) if value is not None]
    if f.published_from or f.published_to:
        out.append(_any([_tok(t) for t in date_range_facts(f.published_from, f.published_to)]))
    return out + [_tok(fact("g", f"{facet}={value}")) for facet, value in (tags or {}).items()]


def search(ctx: AppContext, actor: Actor, query: str = "", tags: dict[str, str] | None = None, limit: int = 20,
           *, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
           facets: bool = True) -> Results:
    """One page of the cases the viewer may read that match the words, tags and filters, with the total and
    the tag facets (value counts over the matches).

    Bounded like Elasticsearch's ``track_total_hits``: a search sorts, pages and counts the newest
    ``MATCH_WINDOW`` matches. A query with fewer matches gets all of them, exactly (``total_relation`` "eq");
    one with more says so (``total`` is the bound, ``total_relation`` "gte", facet counts are over those
    newest matches), and pages past the window are served newest first."""
    filters = filters or Filters()
    _check(ctx, filters, sort, page, limit)
    started = perf_counter()
    words_ = terms(query) if query else []
    scored = sort == "relevance" and bool(words_)
    offset = (page - 1) * limit
    with reading(), ctx.engine.connect() as conn:
        words_node = _word_groups(index_key(ctx.audit.key), words_) if words_ else None
        expression = _visible(ctx, actor, _all(words_node, _audience(ctx, conn, actor),
                                                *_fact_filters(filters, tags)))
        q = _Query(ctx, conn, expression)
        ids = q.window(MATCH_WINDOW)
        relation = "gte" if len(ids) > MATCH_WINDOW else "eq"
        ids = ids[:MATCH_WINDOW]
        scores = q.relevance_of(ids, words_node) if scored and words_node is not None else {}
        if sort == "rating":  # unrated last, as if rated 0; ties newest first
            rated = q.ratings(ids)
            ordered = sorted(ids, key=lambda i: (-rated.get(i, 0.0), -i))
        elif scored:
            ordered = sorted(ids, key=lambda i: (-scores.get(i, 0.0), -i))
        else:
            ordered = ids
        ranked = [(i, scores.get(i, 0.0)) for i in ordered[offset:offset + limit]]
        if not ranked and relation == "gte" and not scored and sort != "rating":
            ranked = [(i, 0.0) for i in q.window(limit - 1, offset)]  # past the window newest first is exact
        items = _hits(conn, ranked, words_)
        counts = q.facets(ids) if facets else {}
    total = len(ids)
    if page == 1 and (query.strip() or tags):   # a person's search (paging on is the same search): for the reports
        shown = " ".join([query.strip(), *(f"{k}:{v}" for k, v in (tags or {}).items())]).strip()
        record_search(ctx, actor, shown, (perf_counter() - started) * 1000, total)
    return Results(total, items, counts, page, limit, relation)


def _hits(conn: Connection, ranked: list[tuple[int, float]], words_: list[str]) -> list[Hit]:
    """Titles and snippets from the stored renderings of the listed entries (three reads for the page)."""
    if not ranked:
        return []
    rows = {r.id: r for r in conn.execute(
        select(ENTRIES.c.id, ENTRIES.c.case_id, ENTRIES.c.tier, ENTRIES.c.version_no, CASES.c.key, CASES.c.state,
               CASES.c.library, CASES.c.published_at)
        .select_from(ENTRIES.join(CASES, CASES.c.id == ENTRIES.c.case_id))
        .where(ENTRIES.c.id.in_([i for i, _ in ranked])))}
    case_ids = [r.case_id for r in rows.values()]
    numbers = {r.version_no for r in rows.values()}
    documents = {(r.case_id, r.number): r.document for r in conn.execute(
        select(VERSIONS.c.case_id, VERSIONS.c.number, VERSIONS.c.document)
        .where(VERSIONS.c.case_id.in_(case_ids), VERSIONS.c.number.in_(numbers)))}
    patches = {(r.case_id, r.version_no, r.tier): r.patch for r in conn.execute(
        select(RENDERINGS.c.case_id, RENDERINGS.c.version_no, RENDERINGS.c.tier, RENDERINGS.c.patch)
        .where(RENDERINGS.c.case_id.in_(case_ids), RENDERINGS.c.version_no.in_(numbers),
               RENDERINGS.c.tier.in_({r.tier for r in rows.values()})))}
    ratings = dict(conn.execute(select(RATINGS.c.case_id, func.avg(RATINGS.c.stars))
                                .where(RATINGS.c.case_id.in_(case_ids)).group_by(RATINGS.c.case_id)).all())
    out = []
    for entry_id, score in ranked:
        r = rows.get(entry_id)
        patch = None if r is None else patches.get((r.case_id, r.version_no, r.tier))
        if r is None or patch is None:  # gone meanwhile, or no stored rendering: show nothing unrendered
            continue
        doc = apply_patch(documents[(r.case_id, r.version_no)], patch)
        out.append(Hit(r.key, doc.get("title") or "", snippet(doc, words_), score, r.state,
                       r.state in ARCHIVED_STATES, r.library,
                       r.published_at.isoformat() if r.published_at else None,
                       float(ratings[r.case_id]) if r.case_id in ratings else None))
    return out


def snippet(document: dict[str, Any], words_: list[str], width: int = 90) -> str:
    """Around the first query word in the rendered text fields (the start of the body without one)."""
    fields = [t for p, t in text_fields(document) if p != "title"]
    for text in fields:
        folded = to_simplified(text.lower())
        positions = [folded.find(w) for w in words_ if w in folded]
        if positions:
            pos = min(positions)
            return re.sub(r"\s+", " ", text[max(0, pos - width // 3):pos + width * 2 // 3])
    return re.sub(r"\s+", " ", fields[0][:width]) if fields else ""

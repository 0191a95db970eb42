"""Search filters served by the full-text index alone: the state and publication-date filters are tokens of
the entries (kept current by every transition), and ``sort=rating`` reads the narrow ``search_ratings`` row of
each match; a search evaluates its full-text query once, and no statement of its count, page or facets reads the
case row."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from library import search
from library.feedback import rate
from library.index import FIRST_DAY, LAST_DAY, date_facts, date_range_facts
from lifecycle.service import CaseService
from tests.web_helpers import people, published_case

days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)


@settings(max_examples=400, deadline=None)
@given(day=days, first=st.one_of(st.none(), days), last=st.one_of(st.none(), days))
def test_a_day_range_matches_exactly_the_days_inside_it(day: date, first: date | None, last: date | None) -> None:
    tokens = date_range_facts(first, last)
    inside = (first is None or day >= first) and (last is None or day <= last)
    assert bool(set(date_facts(day)) & set(tokens)) == inside
    assert len(tokens) <= 130


def test_the_year_2024_onwards_is_a_handful_of_tokens() -> None:
    assert date_range_facts(date(2024, 1, 1), None) == ["qy2024", "qy2025", "qy2026", "qy2027", "qy2028",
                                                       "qy2029", "qk203", "qk204", "qk205", "qk206", "qk207",
                                                       "qk208", "qk209", "qh21"]


def _statements(ctx):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", remember)
    return seen, lambda: event.remove(ctx.engine, "before_cursor_execute", remember)


def test_state_date_and_rating_come_from_the_index(ctx, full_case, clock) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    first = published_case(ctx, users, full_case, "public")
    clock.advance(timedelta(days=40))
    second = published_case(ctx, users, full_case, "public")
    clock.advance(timedelta(days=40))
    third = published_case(ctx, users, full_case, "public")
    day = lambda key: date.fromisoformat(next(h for h in search.search(ctx, users["com"], "快閃店")  # noqa: E731
                                              if h.key == key).published_at[:10])
    reader = users["intern"]

    def keys(**kw):  # type: ignore[no-untyped-def]
        sort = kw.pop("sort", "newest")
        return [h.key for h in search.search(ctx, reader, "快閃店", filters=search.Filters(**kw), sort=sort)]

    assert keys() == [third, second, first]
    assert keys(published_from=day(second)) == [third, second]
    assert keys(published_to=day(second)) == [second, first]
    assert keys(published_from=day(second), published_to=day(second)) == [second]
    assert keys(published_from=day(third) + timedelta(days=1)) == []

    # a transition of a published case moves its state token; the working version's review keeps it findable
    svc.fire(users["author"], second, "start_update")
    assert keys(state="published") == [third, first]
    assert keys(state="updating") == [second]
    svc.fire(users["com"], first, "retire", reason="out of date")
    assert keys(state="published") == [third]
    assert keys(state="retired") == []  # retired cases are not found by this reader at all

    rate(ctx, users["com"], first, 5)
    rate(ctx, users["com"], third, 2)
    rate(ctx, users["spec"], third, 3)
    found = search.search(ctx, users["ops"], "快閃店", sort="rating")
    assert [h.key for h in found] == [first, third, second] and found[1].rating == 2.5
    rate(ctx, users["spec"], third, 5)  # a new rating replaces the old and moves the order (ties: newest first)
    rate(ctx, users["com"], third, 5)
    assert [h.key for h in search.search(ctx, users["ops"], "快閃店", sort="rating")][:2] == [third, first]

    since = day(first)
    seen, stop = _statements(ctx)
    try:
        search.search(ctx, users["ops"], "快閃店", sort="rating", limit=1,
                      filters=search.Filters(state="published", published_from=since))
    finally:
        stop()
    index_statements = [s for s in seen if "MATCH" in s or "@@" in s]
    assert len(index_statements) == 1, index_statements  # one evaluation: page, count and facets use its ids
    assert not [s for s in index_statements if " cases" in s or "case_ratings" in s]


def test_an_indexers_word_memo_stays_bounded(ctx, full_case, monkeypatch) -> None:
    """The words remembered per text (for a seed's shared pool texts) start again past the bound: a server that
    publishes for months does not keep every text it ever indexed."""
    from library import index

    monkeypatch.setattr(index, "WORDS_MEMO_MAX", 5)
    indexer = index.Indexer(ctx)
    case = {"id": 1, "classification": "public", "department": "marketing", "owner_id": None, "author_id": None,
            "library": full_case["library"], "published_at": None}
    sizes = []
    for n in range(4):
        document = dict(full_case, title=f"{full_case['title']} {n}",
                        body={k: f"{v} {n}" for k, v in full_case["body"].items()})
        indexer.rows(case, 1, document, "public", {"public": {}}, "published")
        sizes.append(len(indexer.words))
    assert sizes[0] > 5 and max(sizes) == sizes[0]   # never more than one document's texts (unbounded: 23 → 44)

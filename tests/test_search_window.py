"""A bounded search (``search.MATCH_WINDOW``, as Elasticsearch's ``track_total_hits``): a query matching more
cases than the window answers with the bound and ``total_relation`` "gte", its page, order and facet counts taken
from the newest matches; a query matching fewer gets every match, however old, exactly. The window is made small
here so that three cases are "a large library"."""

from __future__ import annotations

from datetime import timedelta

from library import search
from tests.web_helpers import client, page_client, people, published_case


def test_a_broad_query_is_bounded_and_says_so_a_narrow_one_finds_old_and_new(ctx, full_case, clock,
                                                                            monkeypatch) -> None:
    users = people(ctx)
    keys = []
    for industry in ("retail", "catering", "retail"):  # oldest first
        keys.append(published_case(ctx, users, full_case | {"tags": {"industry": [industry]}}, "public"))
        clock.advance(timedelta(days=30))
    oldest, middle, newest = keys
    reader = users["intern"]
    monkeypatch.setattr(search, "MATCH_WINDOW", 2)

    broad = search.search(ctx, reader, "快閃店")
    assert (broad.total, broad.total_relation) == (2, "gte")
    assert {h.key for h in broad} == {middle, newest}  # the newest two, ranked among themselves
    assert broad.facets["industry"] == {"catering": 1, "retail": 1}  # counted over those two
    by_rating = search.search(ctx, reader, "快閃店", sort="rating")
    assert {h.key for h in by_rating} == {middle, newest}
    # newest first pages on past the window (exact order, nothing skipped)
    pages = [search.search(ctx, reader, "快閃店", limit=1, page=p, sort="newest") for p in (1, 2, 3, 4)]
    assert [h.key for p in pages for h in p] == [newest, middle, oldest]

    # fewer matches than the window: all of them, the oldest included, exactly counted
    narrow = search.search(ctx, reader, "快閃店", {"industry": "retail"})
    assert (narrow.total, narrow.total_relation) == (2, "eq") and {h.key for h in narrow} == {oldest, newest}
    assert narrow.facets["industry"] == {"retail": 2}

    api = client(ctx, "intern")
    assert api.get("/api/v1/search", params={"q": "快閃店"}).json()["total_relation"] == "gte"
    answer = api.get("/api/v1/search", params={"q": "快閃店", "tag": "industry:retail"}).json()
    assert answer["total"] == 2 and answer["total_relation"] == "eq"
    listed = api.get("/api/v1/cases").json()
    assert listed["total"] == 2 and listed["total_relation"] == "gte"

    html = page_client(ctx, "intern").get("/search", params={"q": "快閃店"}).text
    assert '<span id="total">2+</span>' in html and 'id="bounded"' in html
    html = page_client(ctx, "intern").get("/search", params={"q": "快閃店", "tag": "industry:retail"}).text
    assert '<span id="total">2</span>' in html and 'id="bounded"' not in html

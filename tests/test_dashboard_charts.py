"""Server-side SVG charts (library/charts.py) and the operations dashboard: every chart titled, axes labelled,
with a legend and a table alternative, accessible and legible; the dashboard's figures (pass rate, rating
average) computed from what happened, in the reader's language."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from sqlalchemy import text

from library import dashboard
from library.charts import PALETTE, Series, bar_chart, distribution_chart, line_chart
from library.feedback import rate
from lifecycle.service import CaseService
from tests.conftest import decide
from tests.web_helpers import page_client, people, published_case

SVG = "{http://www.w3.org/2000/svg}"


def _svg(chart: str) -> ElementTree.Element:
    return ElementTree.fromstring(re.search(r"<svg.*?</svg>", chart, re.S).group(0))


def _texts(svg: ElementTree.Element) -> list[str]:
    return [el.text or "" for el in svg.iter(f"{SVG}text")]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_every_series_colour_keeps_text_contrast_against_white() -> None:
    for colour in PALETTE:
        assert (1.05) / (_luminance(colour) + 0.05) >= 4.5, colour


def test_bar_chart_has_title_axes_legend_desc_and_a_table_alternative() -> None:
    chart = bar_chart("Cases that need attention", ["Overdue", "Stale"],
                      [Series("This month", [12345, 3]), Series("Last month", [7, None])],
                      x_label="Measure", y_label="Cases", locale="en")
    svg = _svg(chart)
    assert svg.get("role") == "img"
    labelled = svg.get("aria-labelledby").split()
    ids = {el.get("id"): el.text for el in svg if el.get("id")}
    assert [ids[i] for i in labelled][0] == "Cases that need attention"
    desc = ids[labelled[1]]
    assert "This month: Overdue 12,345, Stale 3" in desc and "Last month: Overdue 7" in desc
    texts = _texts(svg)
    assert {"Cases that need attention", "Measure", "Cases", "This month", "Last month"} <= set(texts)
    assert "12,345" in texts                       # the value over its bar, per locale
    rects = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 3                         # no bar for a missing value
    table = re.search(r"<table>.*</table>", chart, re.S).group(0)
    assert "<caption>Cases that need attention</caption>" in table
    assert '<th scope="row">Overdue</th><td>12,345</td><td>7</td>' in table
    assert '<th scope="row">Stale</th><td>3</td><td>–</td>' in table


def test_line_chart_skips_gaps_and_formats_per_locale() -> None:
    chart = line_chart("每月使用量", ["2026-01", "2026-02", "2026-03"], [Series("閱讀次數", [1200.5, None, 3000])],
                       x_label="月份", y_label="次數", locale="zh-Hant")
    svg = _svg(chart)
    assert len(list(svg.iter(f"{SVG}circle"))) == 2
    points = next(svg.iter(f"{SVG}polyline")).get("points").split()
    assert len(points) == 2
    assert "1,200.5" in chart and "3,000" in chart
    assert "以表格檢視數據" in chart               # the table's summary from the message catalog


def test_an_empty_chart_says_so_in_the_readers_language_and_labels_are_escaped() -> None:
    chart = distribution_chart("評分分佈", ["1 星", "<b>2</b>"], [0, 0], name="評分數", x_label="星等",
                               y_label="次數", locale="zh-Hans")
    assert "暂无数据" in chart
    assert "<b>2</b>" not in chart and "&lt;b&gt;2&lt;/b&gt;" in chart
    ElementTree.fromstring(re.search(r"<svg.*?</svg>", chart, re.S).group(0))   # well-formed


def test_distribution_chart_shows_each_buckets_share() -> None:
    chart = distribution_chart("Ratings", ["1", "2", "3"], [1, 1, 2], name="Ratings", x_label="Stars",
                               y_label="Count", locale="en")
    assert "2 (50%)" in chart and "1 (25%)" in chart


def test_dashboard_pass_rate_and_rating_average_come_from_what_happened(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    other = CaseService(ctx)
    second = other.create(users["author"], full_case | {"classification": "public",
                                                        "library": "industry_benchmark"})
    other.fire(users["author"], second, "submit")
    decide(ctx, users["spec"], second, "return", reasons=[{"section": "background", "text": "more detail"}])
    rate(ctx, users["intern"], key, 5)
    rate(ctx, users["exec"], key, 2)
    f = dashboard.figures(ctx)
    assert f["decisions"] == 4 and f["pass_rate"] == 0.75
    assert f["rating_average"] == 3.5 and f["ratings"]["5"] == 1 and f["ratings"]["2"] == 1
    assert f["month"]["pass_rate"] == 0.75 and f["month"]["rating_count"] == 2
    trend = dashboard.trends(ctx, 3)
    assert len(trend["months"]) == 3 and trend["pass_rate"][-1] == 0.75 and trend["pass_rate"][0] is None


@pytest.mark.parametrize("locale,expect,absent", [("en", "Review pass rate", "審核通過率"),
                                                  ("zh-Hant", "審核通過率", "Review pass rate")])
def test_dashboard_page_shows_titled_accessible_charts_in_the_readers_language(ctx, full_case, locale, expect,
                                                                              absent) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    rate(ctx, users["intern"], key, 4)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = :l WHERE username = 'ops'"), {"l": locale})
    page = page_client(ctx, "ops").get("/dashboard")
    assert page.status_code == 200
    assert expect in page.text and absent not in page.text
    svgs = re.findall(r"<svg.*?</svg>", page.text, re.S)
    assert len(svgs) >= 9
    for svg in svgs:
        root = ElementTree.fromstring(svg)
        assert root.get("role") == "img" and root.find(f"{SVG}title").text and root.find(f"{SVG}desc").text
    assert page.text.count("<caption>") == len(svgs)
    assert re.search(r'id="fig-pass_rate"><dt>[^<]+</dt><dd>100(\.0)?%</dd>', page.text)
    assert re.search(r'id="fig-rating_average"><dt>[^<]+</dt><dd>4\.00</dd>', page.text)
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|title|desc)[^>]*>.*?</\1>", " ", page.text, flags=re.S))
    for code in ("overdue_submissions", "pass_rate", "expiring_30", "review_l1", "case_specialist"):
        assert code not in visible
    assert page_client(ctx, "intern").get("/dashboard").status_code == 403


def test_search_time_average_and_95th_percentile_of_a_month(ctx) -> None:
    from library.usage import SEARCHES

    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        conn.execute(SEARCHES.insert(), [{"at": now, "actor": f"u{i % 3}", "query": "q", "ms": ms,
                                          "results": 0 if ms == 100 else 5} for i, ms in enumerate(range(1, 101))])
    p = dashboard.period(ctx, *dashboard.month_bounds(ctx, dashboard.month_key(now, ctx)))
    assert (p["searches"], p["search_ms_avg"], p["search_ms_p95"], p["searches_empty"], p["searchers"]) == (
        100, 50.5, 95, 1, 3)
    earlier = dashboard.period(ctx, *dashboard.month_bounds(ctx, "2026-09"))
    assert earlier["searches"] == 0 and earlier["search_ms_avg"] is None and earlier["search_ms_p95"] is None

"""Monthly usage and effect reports (issue 19.3): what Casebook records for them (searches with their time and
result count, reuse marks with their outcome, NPS answers), the flow's job writing ``usage-YYYY-MM`` and
``effect-YYYY-MM`` once per month as HTML with charts, Markdown and CSV, the reports page for the roles policy
names, the management brief's links, and the health-check and quarterly pages with tasks linked to cases."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from casebook.core.errors import Forbidden, InvalidInput
from casebook.core.users import Actor
from flows.registry import run_job
from library import reports, search
from library.usage import NPS, REUSE, SEARCHES, answer_nps, mark_reuse
from lifecycle.models import Case, CaseVersion
from lifecycle.service import CaseService
from tests.conftest import TZ
from tests.test_browser import CHROMIUM, browser, server  # noqa: F401 - the real server and Chromium, as fixtures
from tests.web_helpers import client, page_client, people, published_case


@pytest.fixture
def users(ctx):
    return people(ctx)


def test_a_search_is_recorded_once_with_its_time_and_result_count(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    found = search.search(ctx, users["intern"], "快閃")
    search.search(ctx, users["intern"], "快閃", page=2)            # paging on: the same search
    search.search(ctx, users["intern"], "沒有這個詞組合xyz")
    search.search(ctx, Actor.system("job"), "快閃")                # not a person's search
    with ctx.engine.connect() as conn:
        assert conn.execute(select(SEARCHES)).all() == []          # queued, not written inside the search
    ctx.flush_queues()
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(SEARCHES).order_by(SEARCHES.c.id)).all()
    assert key in [h.key for h in found.items]
    assert [(r.actor, r.query, r.results) for r in rows] == [("intern", "快閃", found.total),
                                                              ("intern", "沒有這個詞組合xyz", 0)]
    assert all(r.ms >= 0 for r in rows)


def test_reuse_marks_need_a_known_outcome_a_published_case_and_read_access(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "internal")
    with pytest.raises(InvalidInput) as bad:
        mark_reuse(ctx, users["author"], key, "loved_it")
    assert bad.value.problems[0].field == "outcome"
    with pytest.raises(Forbidden):
        mark_reuse(ctx, users["intern"], key, "adapted")               # cannot read an internal case
    draft = CaseService(ctx).create(users["author"], full_case | {"classification": "public"})
    with pytest.raises(InvalidInput) as unpublished:
        mark_reuse(ctx, users["author"], draft, "adapted")
    assert unpublished.value.problems[0].field == "case"
    mark_reuse(ctx, users["author"], key, "inspired_only")
    mark_reuse(ctx, users["author"], key, "adapted", "used the channel mix")     # a new mark replaces the old
    with ctx.engine.connect() as conn:
        assert conn.execute(select(REUSE.c.username, REUSE.c.outcome, REUSE.c.note)).all() == [
            ("author", "adapted", "used the channel mix")]


def test_nps_is_one_answer_per_person_and_month_from_0_to_10(ctx, users, clock) -> None:
    for bad in (11, -1):
        with pytest.raises(InvalidInput) as refused:
            answer_nps(ctx, users["exec"], bad)
        assert refused.value.problems[0].field == "score"
    answer_nps(ctx, users["exec"], 6)
    answer_nps(ctx, users["exec"], 9)
    clock.set(clock.now() + timedelta(days=31))
    answer_nps(ctx, users["exec"], 10)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(NPS.c.month, NPS.c.score).order_by(NPS.c.month)).all() == [
            ("2026-10", 9), ("2026-11", 10)]


def _activity(ctx, users, full_case) -> str:
    """October's activity: a published case, views, a download, searches, reuse marks, ratings, NPS answers."""
    from library.export import export_markdown
    from library.feedback import rate
    from redaction.views import read_case

    key = published_case(ctx, users, full_case, "public")
    for who in ("intern", "exec", "head"):
        read_case(ctx, users[who], key, via="page")
    export_markdown(ctx, users["exec"], key)
    search.search(ctx, users["intern"], "快閃")
    mark_reuse(ctx, users["exec"], key, "applied_as_is")
    mark_reuse(ctx, users["head"], key, "did_not_fit")
    rate(ctx, users["intern"], key, 4)
    rate(ctx, users["head"], key, 2)
    for who, score in (("exec", 10), ("head", 9), ("intern", 3), ("com", 7)):
        answer_nps(ctx, users[who], score)
    return key


def test_the_monthly_job_writes_both_reports_in_every_format_once(ctx, users, full_case, clock, home) -> None:
    key = _activity(ctx, users, full_case)
    clock.set(datetime(2026, 11, 1, 6, 30, tzinfo=TZ))
    assert run_job(ctx, "monthly_reports", deliver_after=False)["reports_written"] == 2
    folder = reports.folder(ctx)
    names = sorted(p.name for p in folder.iterdir() if "2026-10" in p.name)
    assert names == sorted(f"{k}-2026-10.{f}" for k in ("usage", "effect") for f in ("html", "md", "csv", "json"))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert run_job(ctx, "monthly_reports", deliver_after=False)["reports_written"] == 0       # idempotent
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before

    usage = json.loads((folder / "usage-2026-10.json").read_text(encoding="utf-8"))
    f = usage["figures"]
    assert (f["views"], f["downloads"], f["searches"], f["readers"]) == (3, 1, 1, 3)
    assert usage["top_viewed"][0]["key"] == key and usage["top_viewed"][0]["views"] == 3
    effect = json.loads((folder / "effect-2026-10.json").read_text(encoding="utf-8"))
    e = effect["figures"]
    assert e["pass_rate"] == 1.0 and e["decisions"] == 3
    assert e["reuse_marks"] == 2 and e["reuse_success_rate"] == 0.5
    assert e["reuse_rate"] == round(2 / 3, 4)                          # marks / distinct (reader, case) views
    assert e["rating_average"] == 3.0
    assert e["nps"] == 25.0                                             # (2 promoters - 1 detractor) / 4

    page = (folder / "effect-2026-10.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 6 and 'lang="zh-Hant"' in page and "2026-10 成效報告" in page
    assert "審核通過率" in page and "100.0%" in page
    md = (folder / "usage-2026-10.md").read_text(encoding="utf-8")
    assert md.startswith("# 2026-10 使用報告") and f"| {key} |" in md
    rows = list(csv.DictReader(io.StringIO((folder / "effect-2026-10.csv").read_text(encoding="utf-8"))))
    by = {r["measure"]: r for r in rows}
    assert by["pass_rate"]["value"] == "1.0" and by["reuse:applied_as_is"]["value"] == "1"
    assert by["nps"]["label"] == "淨推薦值(NPS)"


def test_report_titles_are_shown_at_the_tier_every_reader_may_see(ctx, users, full_case, clock) -> None:
    from redaction.views import read_case
    from tests.web_helpers import FIGURE

    key = published_case(ctx, users, full_case, "confidential")
    read_case(ctx, users["exec"], key, via="page")
    clock.set(datetime(2026, 11, 1, 6, 30, tzinfo=TZ))
    reports.write_month(ctx, "2026-10")
    usage = (reports.folder(ctx) / "usage-2026-10.md").read_text(encoding="utf-8")
    assert key in usage and FIGURE not in usage       # the exact budget is for the confidential clearance only


def test_reports_page_api_and_files_for_the_roles_policy_names(ctx, users, full_case, clock) -> None:
    _activity(ctx, users, full_case)
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    reports.write_month(ctx, "2026-10")
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'exec'"))
    execs = page_client(ctx, "exec")
    listing = execs.get("/reports")
    assert listing.status_code == 200 and "/reports/usage-2026-10" in listing.text
    shown = execs.get("/reports/effect-2026-10")
    assert shown.status_code == 200 and "Effect report, 2026-10" in shown.text and "Review pass rate" in shown.text
    assert shown.text.count("<svg") == 6 and shown.text.count("<caption>") == 6
    download = execs.get("/reports/usage-2026-10/file/csv")
    assert download.status_code == 200 and download.text.startswith("month,measure,label,value")
    assert "attachment" in download.headers["content-disposition"]
    assert page_client(ctx, "author").get("/reports").status_code == 403
    assert page_client(ctx, "intern").get("/reports/usage-2026-10").status_code == 403
    assert execs.get("/reports/usage-2026-13").status_code == 422
    assert execs.get("/reports/usage-2026-10/file/exe").status_code == 422
    assert execs.get("/reports/usage-2026-09").status_code == 404
    api = client(ctx, "ops")
    assert [r["name"] for r in api.get("/api/v1/reports").json()] == ["usage-2026-10", "effect-2026-10"]
    assert api.get("/api/v1/reports/usage-2026-10").json()["figures"]["views"] == 3
    assert client(ctx, "author").get("/api/v1/reports").status_code == 403


def test_reuse_and_nps_from_page_api_and_cli(ctx, users, full_case, cli) -> None:
    key = published_case(ctx, users, full_case, "public")
    page = page_client(ctx, "intern")
    r = page.post(f"/cases/{key}/reuse", data={"outcome": "adapted", "note": ""}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{key}?done=reused"
    assert page.post(f"/cases/{key}/reuse", data={"outcome": "nope"}).status_code == 422
    form = page.get("/nps")
    assert form.status_code == 200 and 'name="score" value="10"' in form.text
    bad = page.post("/nps", data={"score": "12"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert page.post("/nps", data={"score": "8"}, follow_redirects=False).status_code == 303
    api = client(ctx, "exec")
    assert api.post(f"/api/v1/cases/{key}/reuse", json={"outcome": "applied_as_is"}).status_code == 200
    assert api.post("/api/v1/nps", json={"score": 11}).status_code == 422
    assert api.post("/api/v1/nps", json={"score": 10}).json()["score"] == 10
    code, out, _ = cli("reports", "reuse", key, "inspired_only", "--as", "head")
    assert code == 0 and "reuse recorded" in out
    code, _, err = cli("reports", "nps", "42", "--as", "head")
    assert code == 2 and "score" in err
    with ctx.engine.connect() as conn:
        assert sorted(conn.execute(select(REUSE.c.username, REUSE.c.outcome)).all()) == [
            ("exec", "applied_as_is"), ("head", "inspired_only"), ("intern", "adapted")]
        assert sorted(conn.execute(select(NPS.c.username, NPS.c.score)).all()) == [("exec", 10), ("intern", 8)]


def test_cli_writes_lists_and_shows_reports(ctx, users, full_case, cli) -> None:
    published_case(ctx, users, full_case, "public")
    code, out, _ = cli("reports", "run", "--month", "2026-10", "--as", "ops")
    assert code == 0 and "usage-2026-10" in out
    code, out, _ = cli("reports", "run", "--month", "2026-10", "--as", "ops")
    assert code == 0 and "already written" in out
    code, out, _ = cli("reports", "list", "--as", "ops", "--json")
    assert code == 0 and {r["name"] for r in json.loads(out)} == {"usage-2026-10", "effect-2026-10"}
    code, out, _ = cli("reports", "show", "effect-2026-10", "--as", "ops")
    assert code == 0 and "成效報告" in out
    code, _, err = cli("reports", "run", "--month", "October", "--as", "ops")
    assert code == 2 and "month" in err
    code, _, err = cli("reports", "list", "--as", "author")
    assert code != 0 and "reports.readers" in err


def test_the_management_brief_links_last_months_reports(ctx, users, full_case, clock) -> None:
    published_case(ctx, users, full_case, "public")
    clock.set(datetime(2026, 11, 1, 8, 0, tzinfo=TZ))
    run_job(ctx, "digests", deliver_after=False)
    with ctx.engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload FROM outbox WHERE kind = 'management_brief'")).scalars().all()
    assert payloads
    for payload in payloads:
        data = payload if isinstance(payload, dict) else json.loads(payload)
        assert data["usage_report"] == "/reports/usage-2026-10" and data["effect_report"] == "/reports/effect-2026-10"
        assert data["nps_page"] == "/nps"


def test_health_check_page_lists_each_task_linked_to_its_case(ctx, users, full_case, clock) -> None:
    from tests.test_health import one_case_without_sources

    keys, _ = one_case_without_sources(ctx, users, full_case, clock)   # one lacks its data sources: a gap
    run_job(ctx, "yearly_health_check", deliver_after=False)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'ops'"))
    page = page_client(ctx, "ops").get("/reports/health")
    assert page.status_code == 200
    assert "Proposed for restructuring" in page.text and f'href="/cases/{keys[0]}"' in page.text
    assert "Open" in page.text and page.text.count("<svg") == 1
    for other in keys[1:]:
        assert f'href="/cases/{other}"' not in page.text
    quarterly = page_client(ctx, "ops").get("/reports/quarterly")
    assert quarterly.status_code == 200 and "No quarterly review has run yet" in quarterly.text
    assert page_client(ctx, "author").get("/reports/health").status_code == 403


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_manager_and_operations_read_dashboard_and_reports_in_a_real_browser(ctx, users, full_case, clock,
                                                                           tmp_path, server, browser) -> None:
    """Chromium signs in as operations (zh-Hant) and as an executive (en): the dashboard's charts render with
    their tables one click away, the monthly report opens from the list, the health check links its task to
    the case; axe-core finds no violation on any of these pages."""
    import os

    from axe_playwright_python.sync_playwright import Axe

    from tests.web_helpers import PASSWORD

    key = _activity(ctx, users, full_case)
    gap = [published_case(ctx, users, full_case, "internal") for _ in range(3)][0]
    versions = CaseVersion.__table__
    with ctx.engine.begin() as conn:   # one published document lacks its data sources: a structural gap
        case_id = conn.execute(select(Case.__table__.c.id).where(Case.__table__.c.key == gap)).scalar_one()
        doc = conn.execute(select(versions.c.document).where(versions.c.case_id == case_id)).scalar_one()
        conn.execute(versions.update().where(versions.c.case_id == case_id).values(
            document=doc | {"data_sources": []}))
    clock.set(datetime(2026, 11, 1, 6, 30, tzinfo=TZ))
    run_job(ctx, "monthly_reports", deliver_after=False)
    run_job(ctx, "yearly_health_check", deliver_after=False)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = 'zh-Hant' WHERE username = 'ops'"))
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'exec'"))
    base = server
    shots = Path(os.environ.get("CASEBOOK_SHOTS", tmp_path))
    axe = Axe()
    for who, locale, heading in (("ops", "zh-Hant", "營運儀表板"), ("exec", "en", "Operations dashboard")):
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/dashboard")
        assert page.locator("h1").inner_text() == heading
        charts = page.locator("figure.chart svg[role=img]")
        assert charts.count() >= 9 and charts.first.bounding_box()["width"] > 200
        table = page.locator("figure.chart details").first
        assert not table.locator("table").is_visible()
        table.locator("summary").click()
        assert table.locator("table").is_visible()
        page.screenshot(path=str(shots / f"dashboard-{locale}.png"), full_page=True)
        pages = ["/dashboard"]
        page.goto(f"{base}/reports")
        page.click("a[href='/reports/effect-2026-10']")
        page.wait_for_url(f"{base}/reports/effect-2026-10")
        assert page.locator("figure.chart").count() == 6
        page.screenshot(path=str(shots / f"effect-{locale}.png"), full_page=True)
        page.goto(f"{base}/reports/health")
        page.click(f"a[href='/cases/{gap}']")
        page.wait_for_url(f"{base}/cases/{gap}")
        page.goto(f"{base}/reports/health")
        page.screenshot(path=str(shots / f"health-{locale}.png"), full_page=True)
        pages += ["/reports", "/reports/effect-2026-10", "/reports/usage-2026-10", "/nps", "/reports/health",
                  "/reports/quarterly"]
        for url in pages:
            page.goto(f"{base}{url}")
            if url == "/reports/usage-2026-10":
                assert page.locator(f"a[href='/cases/{key}']").count() == 1
                page.screenshot(path=str(shots / f"usage-{locale}.png"), full_page=True)
            found = axe.run(page).response["violations"]
            assert [(v["id"], v["impact"]) for v in found] == [], (url, locale)
        page.context.close()

"""Exports (issue 19 item 6): a search result as CSV and a case as PDF or Markdown, at the viewer's tier,
formula-safe, with a Chinese font, each case counted towards the bulk-download rule."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from casebook.core.errors import Forbidden
from library import export_pdf as pdf_module
from library.export_csv import export_search_csv, safe_cell
from library.export_pdf import NoCJKFont, export_pdf
from lifecycle.service import CaseService
from policies import DEFAULT_POLICY_PATH, load_policy
from fastapi.testclient import TestClient

from tests.web_helpers import FIGURE, TITLE, client, local_app, page_client, people, published_case

pypdf = pytest.importorskip("pypdf")


def _table(body: str) -> list[dict[str, str]]:
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def _downloads(ctx, username: str) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM downloads d JOIN users u ON u.id = d.user_id "
                                 "WHERE u.username = :u"), {"u": username}).scalar_one()


def _pdf_text(data: bytes) -> tuple[str, dict]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join(p.extract_text() for p in reader.pages).replace(" ", "").replace("\n", "").replace("\x00", ""), \
        dict(reader.metadata)


def test_csv_at_two_tiers_ranges_or_exact_as_policy_says(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    low = _table(export_search_csv(ctx, users["intern"], "快閃店", locale="en"))
    high = _table(export_search_csv(ctx, users["exec"], "快閃店", locale="en"))
    assert [r["Key"] for r in low] == [key] == [r["Key"] for r in high]
    assert low[0]["Budget"] == "300,000-700,000 CNY" and "480000" not in str(low) and FIGURE not in str(low)
    assert high[0]["Budget"] == "480000 CNY" and high[0]["Title"] == TITLE
    assert "試飲人數: 12000" in high[0]["Metrics"]
    # headers in the reader's language; the API answers the same file as a download
    zh = export_search_csv(ctx, users["intern"], "快閃店", locale="zh-Hant")
    assert zh.splitlines()[0].startswith("\ufeff編號,標題")
    r = client(ctx, "intern").get("/api/v1/search/export.csv", params={"q": "快閃店"},
                                  headers={"Accept-Language": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf") and "300,000-700,000 CNY" in r.content.decode("utf-8-sig")


def test_csv_escapes_formula_cells(ctx, full_case) -> None:
    assert [safe_cell(v) for v in ("=1+1", "+33", "-2", "@SUM(A1)", "\tx", "plain", "1-2", None)] == \
        ["'=1+1", "'+33", "'-2", "'@SUM(A1)", "'\tx", "plain", "1-2", ""]
    users = people(ctx)
    svc = CaseService(ctx)
    doc = full_case | {"title": '=HYPERLINK("http://evil.example","快閃店")', "classification": "public",
                       "library": "industry_benchmark"}
    key = svc.create(users["author"], doc)
    svc.fire(users["author"], key, "submit")
    from tests.conftest import decide
    from flows.registry import run_job

    for reviewer in ("spec", "head", "com"):
        decide(ctx, users[reviewer], key)
    run_job(ctx, "publish_approved", deliver_after=False)
    rows = _table(export_search_csv(ctx, users["exec"], "快閃店", locale="en"))
    titles = [r["Title"] for r in rows if r["Key"] == key]
    assert titles == ['\'=HYPERLINK("http://evil.example","快閃店")']
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_pdf_holds_the_chinese_title_at_the_viewers_tier(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    data = export_pdf(ctx, users["exec"], key, locale="zh-Hant")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    body, meta = _pdf_text(data)
    assert meta["/Title"] == TITLE and TITLE in body and "480000" in body
    low, meta = _pdf_text(export_pdf(ctx, users["intern"], key, locale="zh-Hant"))
    assert FIGURE not in low and FIGURE not in meta["/Title"] and "30-70萬元" in low
    r = client(ctx, "intern").get(f"/api/v1/cases/{key}/export.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    # the links the case and search pages carry, with the signed-in session
    browser = page_client(ctx, "head")
    for url, kind in ((f"/cases/{key}/export.pdf", "application/pdf"), (f"/cases/{key}/export.md", "text/markdown"),
                      ("/search/export.csv?q=快閃店", "text/csv")):
        r = browser.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), url
        assert r.headers["x-content-type-options"] == "nosniff"
    assert TITLE in browser.get(f"/cases/{key}/export.md").text
    assert TestClient(local_app(ctx)).get(f"/cases/{key}/export.pdf").status_code == 401


def test_no_cjk_font_is_a_clear_refusal(ctx, full_case, monkeypatch) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    monkeypatch.setenv("CASEBOOK_PDF_FONT", "/nonexistent/font.ttc")
    before = _downloads(ctx, "exec")
    with pytest.raises(NoCJKFont, match="install fonts-noto-cjk or set CASEBOOK_PDF_FONT"):
        export_pdf(ctx, users["exec"], key)
    assert _downloads(ctx, "exec") == before
    r = client(ctx, "exec").get(f"/api/v1/cases/{key}/export.pdf")
    assert r.status_code == 503 and "CASEBOOK_PDF_FONT" in r.json()["error"]
    pdf_module.find_font.cache_clear()


def test_every_export_counts_towards_the_bulk_download_rule(ctx, full_case, monkeypatch, tmp_path) -> None:
    users = people(ctx)
    keys = [published_case(ctx, users, full_case, "public") for _ in range(2)]
    ctx.clock.current = ctx.clock.current.replace(hour=23)  # outside working hours: the rule applies
    export_search_csv(ctx, users["intern"], "快閃店")
    assert _downloads(ctx, "intern") == 2                   # one per case in the file
    export_pdf(ctx, users["intern"], keys[0])
    assert _downloads(ctx, "intern") == 3
    ctx.access_log.flush()
    with ctx.engine.connect() as conn:
        logged = conn.execute(text("SELECT count(*) FROM access_log WHERE actor = 'intern' AND action = 'download'")
                              ).scalar_one()
    assert logged == 3
    # a CSV that takes the count past the policy's limit freezes the account and is not handed out
    strict = tmp_path / "policy.yaml"
    strict.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("bulk_download_max: 20",
                                                                               "bulk_download_max: 4"), encoding="utf-8")
    monkeypatch.setattr(ctx, "policy", load_policy(strict))
    assert ctx.policy.doc.security.bulk_download_max == 4
    with pytest.raises(Forbidden, match="frozen"):
        export_search_csv(ctx, users["intern"], "快閃店")
    assert client(ctx).post("/api/v1/auth/token", json={"username": "intern", "password": "correct horse battery"}
                            ).status_code == 403


def test_withdrawn_and_forbidden_cases_are_refused(ctx, full_case, cli, tmp_path) -> None:
    users = people(ctx)
    internal = published_case(ctx, users, full_case, "internal")
    # another department's internal case: refused as PDF and Markdown, absent from the CSV
    for fn in (export_pdf,):
        with pytest.raises(Forbidden):
            fn(ctx, users["staff_sales"], internal)
    assert client(ctx, "staff_sales").get(f"/api/v1/cases/{internal}/export.md").status_code == 403
    assert internal not in export_search_csv(ctx, users["staff_sales"], "快閃店")
    svc = CaseService(ctx)
    svc.fire(users["ops"], internal, "withdraw", reason="素材授權已到期,撤下")
    assert client(ctx, "head").get(f"/api/v1/cases/{internal}/export.pdf").status_code in (403, 404)
    assert internal not in export_search_csv(ctx, users["head"], "快閃店")
    # the CLI: formats and options checked, a case to a file, a search as CSV
    public = published_case(ctx, users, full_case, "public")
    code, _, err = cli("library", "export", public, "--format", "docx", "--as", "intern")
    assert code == 2 and "--format" in err
    code, _, err = cli("library", "export", "--format", "csv", "--as", "intern")
    assert code == 2 and "--search" in err
    target = tmp_path / "case.pdf"
    code, out, err = cli("library", "export", public, "--format", "pdf", "--out", str(target), "--as", "intern")
    assert code == 0, err
    assert target.read_bytes().startswith(b"%PDF-")
    code, out, err = cli("library", "export", "--format", "csv", "--search", "快閃店", "--as", "intern")
    assert code == 0, err
    assert public in out and "30-70萬元" in out and internal not in out

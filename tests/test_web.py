"""API and pages: authentication, authorisation, the access matrix over every output path, access requests,
bulk-download freezing, and schemathesis over the OpenAPI schema."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from flows.registry import run_job
from lifecycle.service import CaseService
from notifications.sink import SmtpSink
from policies.schema import redaction_action
from tests.web_helpers import FIGURE, client, page_client, people, published_case


@pytest.fixture
def users(ctx):
    return people(ctx)


def test_unauthenticated_calls_get_401_and_no_data(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    anon = client(ctx)
    assert anon.get("/api/v1/openapi.json").status_code == 401                # the schema needs sign-in too
    schema = client(ctx, "intern").get("/api/v1/openapi.json").json()
    checked = 0
    for path, ops in schema["paths"].items():
        if path == "/api/v1/auth/token":
            continue
        url = path.replace("{key}", key).replace("{task_id}", "1").replace("{request_id}", "1")
        for method in ops:
            r = anon.request(method.upper(), url, json={})
            assert r.status_code == 401, (method, url, r.status_code)
            assert FIGURE not in r.text and "WWW-Authenticate" in r.headers
            checked += 1
    assert checked >= 15
    bad = client(ctx)
    bad.headers["Authorization"] = "Bearer not-a-token"
    assert bad.get(f"/api/v1/cases/{key}").status_code == 401
    r = anon.post("/api/v1/auth/token", json={"username": "intern", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"] == "wrong user name or password"


def test_forbidden_calls_get_403_never_the_data(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "internal")
    intern = client(ctx, "intern")
    r = intern.get(f"/api/v1/cases/{key}")
    assert r.status_code == 403 and FIGURE not in r.text and "五十" not in r.text
    assert intern.get(f"/api/v1/cases/{key}/export").status_code == 403
    assert intern.get("/api/v1/reports/dashboard").status_code == 403
    assert intern.post(f"/api/v1/cases/{key}/transitions", json={"event": "retire", "reason": "x"}).status_code == 403
    r = client(ctx, "author").post(f"/api/v1/cases/{key}/transitions", json={"event": "archive"})
    assert r.status_code in (403, 409) and "allowed" in r.text
    r = client(ctx, "author").post("/api/v1/cases", json={"title": "x", "library": "nope"})
    assert r.status_code == 422 and any(p["field"] == "library" for p in r.json()["problems"])


def _expected_exact(ctx, users, who: str, classification: str, key: str) -> tuple[bool, bool]:
    """(may view, sees the exact figure) by the policy, for a case of the marketing department."""
    from casebook.core.errors import Forbidden

    actor = users[who]
    try:
        CaseService(ctx).view(actor, key)
    except Forbidden:
        return False, False
    action = redaction_action(ctx.policy.doc, "MONEY", classification, actor.clearance,
                              own_department=actor.department == "marketing", viewer_is_author=who == "author")
    return True, action == "keep"


def test_access_matrix_every_role_classification_and_output_path(ctx, users, full_case) -> None:
    keys = {c: published_case(ctx, users, full_case, c) for c in ctx.policy.doc.classifications}
    # The digest path: the weekly scenario pack goes out on Mondays with every title at the reader's tier
    # (to the roles of notifications.scenario_pack_roles).
    with SmtpSink() as sink:
        ctx.settings = ctx.settings.model_copy(update={"smtp_port": sink.port})
        ctx.clock.current = ctx.clock.current + timedelta(days=(7 - ctx.clock.current.weekday()) % 7)
        run_job(ctx, "digests")
        mails = {m["To"].split("@")[0]: m.get_body(("plain",)).get_content() for m in sink.messages
                 if "scenario_pack" in m["X-Casebook-Key"]}
    outcomes = []
    for who in users:
        api = client(ctx, who)
        pages = page_client(ctx, who)
        search = api.get("/api/v1/search", params={"q": "快閃店"}).json()["items"]
        for classification, key in keys.items():
            visible, exact = _expected_exact(ctx, users, who, classification, key)
            paths = {"api": api.get(f"/api/v1/cases/{key}"), "page": pages.get(f"/cases/{key}"),
                     "export": api.get(f"/api/v1/cases/{key}/export")}
            for name, r in paths.items():
                assert (r.status_code == 200) == visible, (who, classification, name, r.status_code)
                assert (FIGURE in r.text) == exact, (who, classification, name)
                if visible and not exact:
                    assert "30-70萬元" in r.text, (who, classification, name)
            hit = [h for h in search if h["key"] == key]
            assert bool(hit) == visible, (who, classification, "search")
            if hit:
                assert (FIGURE in hit[0]["title"] + hit[0]["snippet"]) == exact, (who, classification, "search")
            mail = mails.get(who, "")
            listed = key in mail   # the pack goes to the roles policy names, each with what they may read
            packed = users[who].role in ctx.policy.doc.notifications.scenario_pack_roles
            assert listed == (visible and packed), (who, classification, "digest")
            if listed:
                line = next(line for line in mail.splitlines() if key in line)
                outcomes.append((who, classification, FIGURE in line))
    # In e-mail the rendering follows the same table (own department, clearance, classification).
    for who, classification, shown in outcomes:
        action = redaction_action(ctx.policy.doc, "MONEY", classification, users[who].clearance,
                                  own_department=users[who].department == "marketing",
                                  viewer_is_author=who == "author")
        assert shown == (action == "keep"), (who, classification, "digest")
    assert any(shown for *_, shown in outcomes) and any(not shown for *_, shown in outcomes)


def test_access_request_opens_an_internal_case_of_another_department(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "internal")
    asker = client(ctx, "head_sales")
    assert asker.get(f"/api/v1/cases/{key}").status_code == 403
    rid = asker.post(f"/api/v1/cases/{key}/access-requests", json={"reason": "同類活動參考"}).json()["request"]
    assert client(ctx, "head_sales").post(f"/api/v1/access-requests/{rid}/decision",
                                          json={"approve": True}).status_code == 403   # not the case's department
    assert client(ctx, "head").post(f"/api/v1/access-requests/{rid}/decision", json={"approve": True}).json() == \
        {"status": "approved"}
    r = asker.get(f"/api/v1/cases/{key}")
    assert r.status_code == 200 and FIGURE not in r.text and "30-70萬元" in r.text      # ranges: not own department
    with ctx.engine.connect() as conn:
        from sqlalchemy import text

        queued = conn.execute(text("SELECT recipient FROM outbox WHERE kind = 'access_request'")).scalars().all()
    assert queued == ["head"]
    # A second request left pending past its SLA is escalated once by the review_escalations job.
    rid2 = client(ctx, "staff_sales").post(f"/api/v1/cases/{key}/access-requests",
                                           json={"reason": "參考"}).json()["request"]
    from flows.registry import JOBS

    JOBS["review_escalations"](ctx)
    ctx.clock.current += timedelta(days=ctx.policy.doc.security.access_request_working_days + 5)
    JOBS["review_escalations"](ctx)
    JOBS["review_escalations"](ctx)
    with ctx.engine.connect() as conn:
        overdue = conn.execute(text("SELECT recipient FROM outbox WHERE kind = 'access_request' AND "
                                    "period = 'overdue' AND subject_id = :s ORDER BY recipient"),
                               {"s": f"access-{rid2}"}).scalars().all()
    assert overdue == ["head", "ops"]


def test_bulk_downloads_outside_working_hours_freeze_the_account(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    ctx.clock.current = ctx.clock.current.replace(hour=23)
    api = client(ctx, "intern")
    limit = ctx.policy.doc.security.bulk_download_max
    for _ in range(limit):
        assert api.get(f"/api/v1/cases/{key}/export").status_code == 200
    frozen = api.get(f"/api/v1/cases/{key}/export")
    assert frozen.status_code == 403 and "frozen" in frozen.text
    assert api.get("/api/v1/me").status_code == 401                         # tokens revoked
    r = client(ctx).post("/api/v1/auth/token", json={"username": "intern", "password": "correct horse battery"})
    assert r.status_code == 403 and "frozen" in r.text
    ctx.access_log.flush()                               # each download on record (written in batches)
    with ctx.engine.connect() as conn:
        from sqlalchemy import text

        alerts = conn.execute(text("SELECT recipient FROM outbox WHERE kind = 'account_frozen'")).scalars().all()
        logged = conn.execute(text("SELECT count(*) FROM access_log WHERE action = 'download' AND ip IS NOT NULL "
                                   "AND version = 1 AND actor = 'intern'")).scalar_one()
    assert alerts == ["ops"] and logged == limit + 1


def test_pages_show_tasks_dashboard_search_and_capture_errors(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    ops = page_client(ctx, "ops")
    dash = ops.get("/dashboard")
    assert dash.status_code == 200 and dash.text.count("<svg") >= 9 and "cdn" not in dash.text.lower()
    assert re.search(r'id="fig-expiring_90"><dt>[^<]+</dt><dd>\d+<', dash.text)
    assert page_client(ctx, "intern").get("/dashboard").status_code == 403
    found = page_client(ctx, "intern").get("/search", params={"q": "快閃"})
    assert key in found.text and FIGURE not in found.text
    form = page_client(ctx, "author").post("/cases/new", data={"title": "", "library": "nope",
                                                                "project_start": "2026-05-01",
                                                                "project_end": "2026-04-01"})
    assert form.status_code == 422
    assert 'data-field="library"' in form.text and 'data-field="project_end"' in form.text
    assert "退出" in page_client(ctx, "intern").get("/").text                   # zh-Hans, the default locale
    assert page_client(ctx, "intern").get("/cases/CB-999999").status_code == 404
    with ctx.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'exec'"))
        conn.execute(text("UPDATE users SET locale = 'zh-Hant' WHERE username = 'head'"))
    assert "Sign out" in page_client(ctx, "exec").get("/").text
    assert "登出" in page_client(ctx, "head").get("/").text


def test_control_characters_are_refused_with_a_clear_error_on_every_store(ctx, users) -> None:
    api = client(ctx, "author")
    r = api.post("/api/v1/cases", json={"title": "a\x00b", "library": "industry_benchmark",
                                        "classification": "public", "department": "marketing"})
    assert r.status_code == 422 and r.json()["problems"][0] == {
        "field": "title", "rule": "must not contain control characters (such as NUL)",
        "message": "标题：不得包含控制字符（例如 NUL）"}                # the author reads zh-Hans
    assert api.get("/api/v1/search", params={"q": "a\x00b"}).status_code == 400
    assert api.get("/api/v1/cases/CB%00").status_code == 400
    assert client(ctx).post("/api/v1/auth/token", json={"username": "a\x00", "password": "x"}).status_code in (401, 422)

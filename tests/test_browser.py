"""Browser tests: Playwright driving Debian Chromium against ``casebook``'s real web server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lifecycle.service import CaseService
from flows.registry import run_job
from notifications.sink import free_port
from tests.web_helpers import FIGURE, PASSWORD, people

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="/usr/bin/chromium is not installed (.ci/run installs Debian's chromium)")


@pytest.fixture
def server(ctx):
    import uvicorn

    from casebook.web.app import create_app

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(ctx, listen_host="127.0.0.1"), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def sign_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_context().new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def review_and_decide(ctx, page, key: str, decision: str, scores: dict[str, int] | None = None,  # type: ignore[no-untyped-def]
                      reasons: dict[str, str] | None = None) -> None:
    """Claim the case's review from the inbox, score it on the decision page and decide."""
    task = page.locator("section.task", has_text=key)
    claim = task.locator("form[action$='/claim'] button")
    (claim if claim.count() else task.locator("a[href^='/tasks/']")).click()   # claim, or open the held task
    page.wait_for_load_state()
    for criterion in ctx.policy.doc.review.rubric.criteria:
        value = (scores or {}).get(criterion, ctx.policy.doc.review.rubric.levels)
        page.select_option(f"select[name=score_{criterion}]", str(value))
    for section, reason in (reasons or {}).items():
        page.fill(f"textarea[name=reason_{section}]", reason)
    page.check(f"input[name=decision][value={decision}]")
    page.click("form.decide button")
    page.wait_for_load_state()


def test_three_reviewers_take_a_case_through_three_levels_and_tiers_differ(ctx, server, browser,
                                                                           full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    doc = full_case | {"title": "社區快閃店復盤", "classification": "public", "library": "industry_benchmark",
                       "body": full_case["body"] | {"data": f"活動預算{FIGURE},新增會員三千四百人。"}}
    key = svc.create(users["author"], doc)
    svc.fire(users["author"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        page = sign_in(browser, server, reviewer)
        review_and_decide(ctx, page, key, "approve")
        assert page.locator("section.task", has_text=key).count() == 0
        page.context.close()
    assert svc.view(users["com"], key).state == "approved"
    run_job(ctx, "publish_approved", deliver_after=False)
    seen = {}
    for who in ("intern", "head", "head_sales", "exec"):
        page = sign_in(browser, server, who)
        page.goto(f"{server}/cases/{key}")
        seen[who] = (page.locator("#part-data").inner_text(), page.locator("#budget").inner_text())
        page.context.close()
    assert "30-70萬元" in seen["intern"][0] and FIGURE not in seen["intern"][0]         # public tier: ranges
    assert "300,000-700,000" in seen["intern"][1]
    assert FIGURE in seen["head"][0] and "480000" in seen["head"][1].replace(",", "")   # own department: exact
    assert "30-70萬元" in seen["head_sales"][0]                                          # other department: ranges
    assert FIGURE in seen["exec"][0]                                                   # executives: everything


def test_a_page_from_a_second_origin_cannot_post_with_the_users_cookie(ctx, server, browser, full_case) -> None:
    """Another port of the same host is same-site but not same-origin: its auto-submitted form reaches the
    server with the signed-in user's cookie and is refused; nothing is stored."""
    import http.server

    from sqlalchemy import text

    from tests.web_helpers import published_case

    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    evil_port = free_port()
    evil_page = (f'<html><body><form id="f" method="post" action="{server}/cases/{key}/correction">'
                 '<input name="text" value="forged"><input name="csrf_token" value="guess"></form>'
                 '<script src="/go.js"></script></body></html>').encode()
    go = b'document.getElementById("f").submit();'

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body, kind = (go, "text/javascript") if self.path == "/go.js" else (evil_page, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", evil_port), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page = sign_in(browser, server, "head")
        with page.expect_response(lambda r: r.url.endswith("/correction")) as answer:
            page.goto(f"http://127.0.0.1:{evil_port}/")
        assert answer.value.status == 403
        assert "已拒绝跨站请求" in page.content()   # the refusal in the head's language (zh-Hans)
        page.context.close()
    finally:
        evil.shutdown()
    with ctx.engine.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM outbox WHERE kind = 'correction_request'")).scalar_one()
    assert sent == 0

"""axe-core over every page, as the roles that use it, in Traditional Chinese, Simplified Chinese and English:
no critical, serious or moderate violation (contrast, labels, landmarks, one level-one heading ...).

Runs Debian's chromium through Playwright against the real server (see tests/test_browser.py). Screenshots of
every view go to ``CASEBOOK_SHOTS`` when it is set (a directory), to look at the pages by eye.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.page_tour import View, build_library, views
from tests.test_browser import CHROMIUM, browser, server  # noqa: F401  (fixtures)
from tests.web_helpers import PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(autouse=True)
def _once(ctx) -> None:  # type: ignore[no-untyped-def]
    """The pages' markup does not depend on the store: scanned on SQLite only (PostgreSQL runs the crawl in
    tests/test_web_i18n.py), which keeps the suite's time in bounds."""
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("markup is the same on every store; scanned once, on SQLite")
FAILING_IMPACTS = ("critical", "serious", "moderate")
#: zh-Hant is scanned with every view; en with one view per template and state (English words are longer, so
#: layout and contrast are checked again); zh-Hans (zh-Hant's layout and script) with the signed-out views and
#: the author's main pages. Keeps the suite's time in bounds on a shared machine.
REPEATS = {"my cases sorted", "search start", "review desk (committee)", "inbox (specialist)", "inbox (operations)",
           "case page with versions", "capture refused"}
ZH_HANS = {"sign-in", "sign-in error", "inbox", "case page (author)", "capture form with errors", "my cases"}
LOCALE_PASSES = {"zh-Hant": lambda v: True, "en": lambda v: v.name not in REPEATS,
                 "zh-Hans": lambda v: v.name in ZH_HANS}


def _open(b, base: str, who: str | None):  # type: ignore[no-untyped-def]
    context = b.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})   # axe is injected
    page = context.new_page()
    if who is not None:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
    return page


def _show(page, base: str, view: View) -> None:  # type: ignore[no-untyped-def]
    """Bring the page to the state the view names: fetched, or its form filled and posted as a person would."""
    if view.form is None:
        page.goto(base + view.path)
        return
    page.goto(base + view.path)
    for name, value in view.form.items():
        if name == "action":
            continue
        field = page.locator(f"[name={name}]").first
        if field.evaluate("e => e.tagName") == "SELECT":
            field.evaluate("(e, v) => { const o = new Option(v, v, true, true); e.add(o); }", value)
        else:
            field.evaluate("(e, v) => { e.value = v; }", value)
    page.locator("form[method=post] button[type=submit]").last.click() if view.who is None else \
        page.locator("button[name=action][value=save]").click()
    page.wait_for_load_state()


def test_every_page_has_no_serious_or_moderate_axe_violation(ctx, server, browser, full_case) -> None:  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    lib = build_library(ctx, full_case)
    axe = Axe()
    shots = Path(os.environ["CASEBOOK_SHOTS"]) if os.environ.get("CASEBOOK_SHOTS") else None
    failures, theirs, scanned = [], [], 0
    for locale, only in LOCALE_PASSES.items():
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE users SET locale = :l"), {"l": locale})
        pages = {}
        for view in views(lib):
            if not only(view):
                continue
            page = pages.get(view.who) or pages.setdefault(view.who, _open(browser, server, view.who))
            if view.who is None:
                page.context.set_extra_http_headers({"Accept-Language": locale})
            _show(page, server, view)
            assert page.locator("html").get_attribute("lang") == locale, (locale, view.name)
            results = axe.run(page)
            scanned += 1
            bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                   for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]
            if bad:
                (failures if view.ours else theirs).append((locale, view.name, bad))
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"\W+", "-", f"{locale}-{view.who or 'anon'}-{view.name}")
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        for page in pages.values():
            page.context.close()
    if theirs:
        print("axe on pages owned elsewhere (dashboard, health):", *theirs, sep="\n  ")
    assert scanned >= 50
    assert failures == [], "\n".join(map(str, failures))


def test_phone_width_keeps_the_page_usable(ctx, server, browser, full_case) -> None:  # noqa: F811
    """At a phone's width nothing overflows sideways (tables scroll inside their own box) and axe stays clean."""
    from axe_playwright_python.sync_playwright import Axe

    lib = build_library(ctx, full_case)
    context = browser.new_context(bypass_csp=True, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "author")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    for path in ("/", f"/cases/{lib['published']}", "/cases/new", "/my-cases", "/search?q=快閃"):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        bad = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in FAILING_IMPACTS]
        assert bad == [], (path, bad)
        if os.environ.get("CASEBOOK_SHOTS"):
            name = "phone" + re.sub(r"\W+", "-", path)
            page.screenshot(path=str(Path(os.environ["CASEBOOK_SHOTS"]) / f"{name}.png"), full_page=True)
    context.close()

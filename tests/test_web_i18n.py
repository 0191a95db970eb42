"""Every page in every interface language: no raw code (policy codes, states, events, field names) and no catalog
key in the visible text, ``<html lang>`` right, one heading per page; every ``t('...')`` key a template uses exists;
the language switch; figures and dates per locale."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import text

from casebook.core.i18n import catalog
from casebook.core.locales import LOCALES
from casebook.web import forms, nav
from casebook.web.i18n import writer
from lifecycle.document import SECTIONS
from lifecycle.states import events, states
from policies.loader import parse_policy
from policies import DEFAULT_POLICY_PATH
from tests.page_tour import View, build_library, views
from tests.web_helpers import PASSWORD, form_token, local_app, page_client, people

TEMPLATES = Path(__file__).resolve().parents[1] / "casebook" / "web" / "templates"
ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def describe_is_placeholder() -> bool:
    """Whether ``casebook.core.errors.describe`` still returns the refusal's own (English, coded) text.

    Refusals are put into words by describe / describe_problem (h-cli's part of issue 17). Until they are, the
    text they produce (marked ``data-described`` in the templates) is left out of the raw-code check; once they
    are, the check covers it with no change here."""
    from casebook.core.errors import NotFound, describe

    return describe(NotFound("no case 'CB-1'"), "zh-Hant") == "no case 'CB-1'"


class _Visible(HTMLParser):
    """The text a reader sees or hears: text nodes (not script, style, code, or content marked translate="no":
    the API reference's operations) and the labelling attributes."""

    def __init__(self, skip_described: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []          # per open element: whether its content is skipped
        self.skip_described = skip_described
        self.lang = ""
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "html":
            self.lang = named.get("lang") or ""
        if tag == "h1":
            self.h1 += 1
        skipped = bool(self.stack and self.stack[-1]) or tag in ("script", "style", "code") \
            or named.get("translate") == "no" or (self.skip_described and "data-described" in named)
        if not skipped:
            self.parts += [v for k, v in attrs if k in ATTRIBUTES and v]
        if tag not in VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible(html: str, skip_described: bool = False) -> _Visible:
    parser = _Visible(skip_described)
    parser.feed(html)
    return parser


def raw_codes(policy) -> set[str]:  # type: ignore[no-untyped-def]
    """Codes a reader must never see: the policy's (departments too), the state machine's, the form's field
    names."""
    doc = policy.doc
    codes = {*doc.scenarios, *doc.outcomes, *doc.classifications, *doc.clearances, *doc.libraries, *doc.roles,
             *doc.departments,
             *doc.tag_facets, *(v for f in doc.tag_facets.values() for v in f.values), *doc.review.rubric.criteria,
             *(level.name for chain in doc.review.chains.values() for level in chain),
             *states(policy.max_review_levels), *events(policy.max_review_levels),
             *forms.SCALARS, *(f"body_{s}" for s in SECTIONS), "budget_amount", "budget_currency",
             *doc.event_permissions.values()}
    return {c for c in codes if c}


def offending(words: str, codes: set[str], keys: set[str], locale: str) -> list[str]:
    """Codes and catalog keys found as whole tokens. In English the codes that are plain words (draft, success)
    are English too, so only codes with ``_`` or ``.`` count there; in Chinese every code counts."""
    found = []
    for token in set(re.findall(r"[A-Za-z][\w.\-]*[A-Za-z0-9]", words)):
        if token in keys and ("_" in token or locale != "en"):
            found.append(f"key {token}")
        elif token in codes and ("_" in token or "." in token or locale != "en"):
            found.append(f"code {token}")
    return sorted(found)


@pytest.fixture
def tour(ctx, full_case):  # type: ignore[no-untyped-def]
    lib = build_library(ctx, full_case)
    return lib, views(lib)


def _fetch(ctx, view: View, clients: dict, locale: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    if view.who is None:
        c = clients.setdefault(None, TestClient(local_app(ctx)))
        c.headers["Accept-Language"] = {"zh-Hant": "zh-TW,zh;q=0.8", "zh-Hans": "zh-CN", "en": "en-GB,en"}[locale]
        if view.form is None:
            return c.get(view.path)
        return c.post(view.path, data=view.form | {"csrf_token": form_token(c)})
    c = clients.get(view.who) or clients.setdefault(view.who, page_client(ctx, view.who))
    return c.post(view.path, data=view.form) if view.form is not None else c.get(view.path)


def test_every_page_in_every_locale_shows_no_raw_code_or_catalog_key(ctx, tour) -> None:
    lib, pages = tour
    codes = raw_codes(ctx.policy)
    keys = set(catalog())
    codes |= set(lib["users"])          # people are shown by display name, never by user name
    clients: dict = {}
    failures = []
    lenient = describe_is_placeholder()
    for locale in LOCALES:
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE users SET locale = :l"), {"l": locale})
        for view in pages:
            r = _fetch(ctx, view, clients, locale)
            where = f"{locale} {view.name} {view.path}"
            assert r.status_code == view.status, (where, r.status_code, r.text[:500])
            seen = visible(r.text, skip_described=lenient)
            assert seen.lang == locale, where
            assert seen.h1 == 1, (where, seen.h1)
            if not view.ours:
                continue
            if view.name == "case page with versions":          # the version diff is marked-up text, not JSON
                assert "<ins>" in r.text and "<del>" in r.text and '"body"' not in r.text, where
            words = " ".join(seen.parts)
            assert catalog()["app"][locale] in words, where             # the text was read at all
            if bad := offending(words, codes, keys, locale):
                failures.append((where, bad))
    assert failures == [], "\n".join(map(str, failures))


def test_raw_code_check_can_fail() -> None:
    """The crawl's detector flags what issue 17 saw on the pages."""
    codes = raw_codes(parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8")))
    keys = set(catalog())
    assert offending("enterprise_practice / user_operation / success", codes, keys, "en") == [
        "code enterprise_practice", "code user_operation"]
    assert offending("狀態 draft · review_l2", codes, keys, "zh-Hant") == ["code draft", "code review_l2"]
    assert offending("project_start 我的待辦 state_draft", codes, keys, "zh-Hans") == [
        "key project_start", "key state_draft"]
    assert offending("Save a draft and submit", codes, keys, "en") == []
    assert offending("部門 marketing · 負責人 林志明", codes, keys, "zh-Hant") == ["code marketing"]


def _template_keys() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in TEMPLATES.glob("*.html"):
        for key in re.findall(r"""\bt\(\s*["']([^"']+)["']\s*[,)]""", path.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(path.name)
    return found


def test_every_key_a_template_names_is_in_the_catalog() -> None:
    used = _template_keys()
    assert len(used) > 100                                    # the parser finds the templates' keys
    missing = {k: sorted(v) for k, v in used.items() if k not in catalog()}
    assert missing == {}
    # keys built from a prefix and a code: every code has its message
    states_events = [f"state_{s}" for s in states(3)] + [f"event_{e}" for e in events(3)]
    assert [k for k in states_events if k not in catalog()] == []
    assert [e.key for e in nav.NAV if e.key not in catalog()] == []


def test_signed_out_language_follows_the_browser_then_the_switch(ctx) -> None:
    from fastapi.testclient import TestClient

    people(ctx)
    c = TestClient(local_app(ctx))
    c.headers["Origin"] = "http://testserver"
    assert 'lang="en"' in c.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    page = c.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert 'lang="zh-Hans"' in page and "登录" in page
    r = c.post("/locale", data={"locale": "zh-Hant", "next": "/login", "csrf_token": form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = c.get("/login", headers={"Accept-Language": "en"}).text          # the choice beats the browser
    assert 'lang="zh-Hant"' in page and "登入" in page
    # a forged switch (no token) changes nothing; a switch to another site is not followed
    assert c.post("/locale", data={"locale": "en"}).status_code == 403
    r = c.post("/locale", data={"locale": "en", "next": "//evil.example/", "csrf_token": form_token(c)},
               follow_redirects=False)
    assert r.headers["location"] == "/"
    # sign-in error in the page's language
    bad = c.post("/login", data={"username": "author", "password": "wrong", "csrf_token": form_token(c)})
    assert 'lang="en"' in bad.text and 'class="flash error"' in bad.text


def test_signed_in_switch_updates_the_preference(ctx) -> None:
    people(ctx)
    author = page_client(ctx, "author")
    assert 'lang="zh-Hans"' in author.get("/").text
    r = author.post("/locale", data={"locale": "en", "next": "/my-cases"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my-cases"
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT locale FROM users WHERE username = 'author'")).scalar() == "en"
        assert conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'user.preferences'")).scalar() == 1
    page = author.get("/my-cases").text
    assert 'lang="en"' in page and "My cases" in page
    assert author.post("/locale", data={"locale": "xx"}).status_code == 422


def test_navigation_offers_only_what_the_role_may_use(ctx) -> None:
    people(ctx)
    intern = page_client(ctx, "intern").get("/").text
    author = page_client(ctx, "author").get("/").text
    ops = page_client(ctx, "ops").get("/").text
    assert 'href="/cases/new"' not in intern and 'href="/dashboard"' not in intern
    assert 'href="/cases/new"' in author and 'href="/dashboard"' not in author
    assert 'href="/dashboard"' in ops
    refused = page_client(ctx, "intern").get("/cases/new")
    assert refused.status_code == 403 and 'name="title"' not in refused.text       # before filling it in


def test_figures_dates_and_money_per_locale(ctx) -> None:
    w = {loc: writer(loc, ctx.policy, ctx.clock.tz) for loc in LOCALES}
    assert w["zh-Hant"].day(date(2026, 12, 3)) == "2026年12月3日"
    assert w["en"].day("2026-12-03") == "December 3, 2026"
    assert w["zh-Hans"].metric({"name": "新增會員", "value": 58.0, "unit": "人"}) == "58人"
    assert w["en"].metric({"name": "share", "value": 12.5, "unit": "%"}) == "12.5%"
    assert w["en"].metric({"name": "visits", "value": 1200, "unit": "visits"}) == "1,200 visits"
    assert w["zh-Hans"].budget({"amount": 320000, "currency": "CNY"}) == "¥320,000"
    # the reader's range (redaction chose it) written like an exact amount; other stored renderings kept
    assert w["zh-Hans"].budget({"amount": None, "currency": "CNY", "display": "300,000-700,000 CNY"}) == \
        "¥300,000-700,000"
    assert w["en"].metric({"name": "GMV", "value": None, "display": "1-3 million"}) == "1-3 million"
    wan = parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("money: symbol", "money: wan"))
    assert writer("zh-Hant", wan).budget({"amount": 320000, "currency": "CNY"}) == "32萬元"
    assert writer("zh-Hans", wan).budget({"amount": 320000, "currency": "CNY"}) == "32万元"
    ranged = {"amount": None, "currency": "CNY", "display": "300,000-700,000 CNY"}
    assert writer("zh-Hant", wan).budget(ranged) == "30-70萬元"
    assert writer("zh-Hant", wan).budget(ranged | {"display": "300,000-100,000,000 CNY"}) == "30萬-1億元"


def test_every_policy_code_has_a_label_in_every_locale(ctx) -> None:
    doc = ctx.policy.doc
    codes = {*doc.scenarios, *doc.outcomes, *doc.classifications, *doc.clearances, *doc.libraries, *doc.roles,
             *doc.departments, *doc.tag_facets, *(v for f in doc.tag_facets.values() for v in f.values)}
    missing = [(c, loc) for c in sorted(codes) for loc in LOCALES if not ctx.policy.label(c, loc)]
    assert missing == []
    from casebook.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="labels.x: missing"):
        parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("\nlabels:\n", "\nlabels:\n  x: {en: X}\n", 1))
    with pytest.raises(InvalidInput, match="departments.x.labels: missing zh-Hans, zh-Hant"):
        parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
            "\ndepartments:\n", "\ndepartments:\n  x: {labels: {en: X}}\n", 1))


def test_access_request_sent_is_a_success_not_an_error(ctx, full_case) -> None:
    from tests.web_helpers import published_case

    users = people(ctx)
    key = published_case(ctx, users, full_case, "internal")
    r = page_client(ctx, "staff_sales").post(f"/cases/{key}/access", data={"reason": "準備同類活動"})
    assert r.status_code == 202 and 'class="flash success"' in r.text and 'class="flash error"' not in r.text


def test_my_cases_sorts_and_pages_on_the_server(ctx) -> None:
    from lifecycle.service import CaseService

    users = people(ctx)
    svc = CaseService(ctx)
    for i in range(23):
        svc.create(users["author"], {"title": f"草稿 {i:02d}", "library": "industry_benchmark",
                                     "classification": "public", "department": "marketing"})
    author = page_client(ctx, "author")
    first = author.get("/my-cases?sort=title&dir=asc").text
    titles = re.findall(r"<td>(草稿 \d\d)</td>", first)
    assert titles == [f"草稿 {i:02d}" for i in range(20)]
    assert 'aria-sort="ascending"' in first and "sort=title&amp;dir=desc" in first    # the heading flips the order
    second = author.get("/my-cases?sort=title&dir=desc&p=2").text
    assert re.findall(r"<td>(草稿 \d\d)</td>", second) == ["草稿 02", "草稿 01", "草稿 00"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    odd = author.get("/my-cases?sort=nope&p=abc")                          # typed by hand: defaults, no error
    assert odd.status_code == 200 and len(re.findall(r"<td>草稿 \d\d</td>", odd.text)) == 20

"""Shared set-up for the web tests: users with passwords, published cases, a signed-in client."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from access.accounts import set_password, sign_in
from casebook.core.users import Actor
from casebook.web.app import create_app
from flows.registry import run_job
from lifecycle.service import CaseService
from tests.conftest import decide, make_users

PASSWORD = "correct horse battery"
FIGURE = "五十萬元"
TITLE = f"預算{FIGURE}的社區快閃店"

ROLES = [("author", "staff", "marketing"), ("author_sales", "staff", "sales"), ("spec", "case_specialist", "ops"),
         ("head", "department_head", "marketing"), ("head_sales", "department_head", "sales"),
         ("com", "committee_member", "committee"), ("ops", "operations", "ops"), ("intern", "intern", "marketing"),
         ("exec", "executive", "board"), ("staff_sales", "staff", "sales")]


#: Display names (pages show these, never the user names above).
NAMES = {"author": "陳雅婷", "author_sales": "王建國", "spec": "李靜", "head": "林志明", "head_sales": "劉洋",
         "com": "Grace Chow", "ops": "張偉", "intern": "黃小雯", "exec": "David Ho", "staff_sales": "吳家豪"}


def people(ctx) -> dict[str, Actor]:
    users = make_users(ctx, *ROLES)
    for name in users:
        set_password(ctx, Actor.system("test"), name, PASSWORD)
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = username || '@example.test'"))
        for name, shown in NAMES.items():
            conn.execute(text("UPDATE users SET display_name = :n WHERE username = :u"), {"n": shown, "u": name})
    return users


def published_case(ctx, users, full_case, classification: str, author: str = "author") -> str:
    svc = CaseService(ctx)
    doc = full_case | {"title": TITLE, "classification": classification, "library": "industry_benchmark",
                       "body": full_case["body"] | {"data": f"活動預算{FIGURE},新增會員三千四百人。"}}
    key = svc.create(users[author], doc)
    svc.fire(users[author], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, users[reviewer], key)
    run_job(ctx, "publish_approved", deliver_after=False)
    assert svc.view(users["com"], key).state == "published"
    return key


def local_app(ctx):  # type: ignore[no-untyped-def]
    """The app as a server listening on loopback runs it (plain-HTTP cookies, as TestClient speaks HTTP)."""
    return create_app(ctx, listen_host="127.0.0.1")


def form_token(c: TestClient, url: str = "/login") -> str:
    """The CSRF token a page's forms carry (fetching the page starts a pre-session when needed)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(url).text)
    assert found, url
    return found.group(1)


def client(ctx, username: str | None = None) -> TestClient:
    c = TestClient(local_app(ctx))
    if username:
        c.headers["Authorization"] = f"Bearer {sign_in(ctx, username, PASSWORD, kind='api', ip='127.0.0.1')}"
    return c


def page_client(ctx, username: str) -> TestClient:
    """A browser-like client signed in through the login form; its posts carry the session's CSRF token
    (``post_form``) and the same-origin Origin header a browser sends."""
    c = TestClient(local_app(ctx))
    c.headers["Origin"] = "http://testserver"
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    token = form_token(c, "/")
    post = c.post

    def post_form(url, *args, data=None, **kwargs):  # type: ignore[no-untyped-def]
        if "json" not in kwargs and "content" not in kwargs:
            data = {"csrf_token": token} | dict(data or {})
        return post(url, *args, data=data, **kwargs)

    c.post = post_form  # type: ignore[method-assign]
    return c

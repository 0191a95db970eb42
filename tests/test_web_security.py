"""Attacks on the web tier kept as tests: forged cross-site posts, missing headers, oversized bodies, brute
force and name enumeration by timing, task-id enumeration, anonymous API docs."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from access.accounts import set_password
from casebook.core.users import Actor
from casebook.web.deps import cookie_secure
from tests.web_helpers import PASSWORD, client, form_token, page_client, people, published_case


@pytest.fixture
def users(ctx):
    return people(ctx)


def _count(ctx, sql: str, **params) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_forged_posts_are_refused_and_change_nothing(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    head = page_client(ctx, "head")
    token = form_token(head, f"/cases/{key}")
    foreign = head.post(f"/cases/{key}/rate", data={"stars": 5, "csrf_token": token},
                        headers={"Origin": "http://127.0.0.1:9"}, follow_redirects=False)
    assert foreign.status_code == 403 and "已拒绝跨站请求" in foreign.text   # the head reads zh-Hans
    no_token = head.post(f"/cases/{key}/correction", data={"text": "fix", "csrf_token": ""}, follow_redirects=False)
    assert no_token.status_code == 403
    referer = head.post(f"/cases/{key}/rate", data={"stars": 5}, follow_redirects=False,
                        headers={"Origin": "", "Referer": "http://evil.example/x"})
    assert referer.status_code == 403
    # The session cookie on the JSON API, as curl with a foreign Origin: refused; without the header token too.
    assert head.post(f"/api/v1/cases/{key}/ratings", json={"stars": 5},
                     headers={"Origin": "http://evil.example"}).status_code == 403
    assert head.post(f"/api/v1/cases/{key}/ratings", json={"stars": 5}).status_code == 403
    assert _count(ctx, "SELECT count(*) FROM case_ratings") == 0
    assert _count(ctx, "SELECT count(*) FROM outbox WHERE kind = 'correction_request'") == 0
    # The same requests from this origin with the session's token go through; bearer calls need no token.
    assert head.post(f"/cases/{key}/rate", data={"stars": 4}, follow_redirects=False).status_code == 303
    assert head.post(f"/api/v1/cases/{key}/ratings", json={"stars": 4},
                     headers={"X-CSRF-Token": token}).status_code == 201
    assert client(ctx, "intern").post(f"/api/v1/cases/{key}/ratings", json={"stars": 3},
                                      headers={"Origin": "http://evil.example"}).status_code == 201
    # Sign-in itself needs the pre-session token (login CSRF).
    fresh = client(ctx)
    assert fresh.post("/login", data={"username": "head", "password": PASSWORD}).status_code == 403


def test_every_kind_of_answer_carries_the_security_headers(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    api, pages, anon = client(ctx, "intern"), page_client(ctx, "intern"), client(ctx)
    answers = {"page": pages.get(f"/cases/{key}"), "api": api.get(f"/api/v1/cases/{key}"),
               "download": api.get(f"/api/v1/cases/{key}/export"), "missing": api.get("/api/v1/cases/CB-404"),
               "unauthenticated": anon.get("/api/v1/me"), "static": anon.get("/static/casebook.css"),
               "login": anon.get("/login"), "too large": anon.post("/api/v1/auth/token", content=b"x" * 3_000_000)}
    for name, r in answers.items():
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp, name
        assert r.headers.get("x-frame-options") == "DENY" and r.headers.get("x-content-type-options") == "nosniff"
        assert r.headers.get("referrer-policy"), name
    assert answers["too large"].status_code == 413
    assert answers["page"].status_code == 200 and "<script" not in answers["page"].text
    assert " style=" not in answers["page"].text


def test_request_bodies_over_the_policy_bound_get_413_and_store_nothing(ctx, users) -> None:
    limit = ctx.policy.doc.security.max_request_bytes
    api = client(ctx, "author")
    big = {"title": "x" * (limit + 10), "library": "industry_benchmark"}
    r = api.post("/api/v1/cases", json=big)
    assert r.status_code == 413 and r.json()["problems"][0]["field"] == "body"

    def chunks():  # no Content-Length: the streamed body is counted
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    assert api.post("/api/v1/cases", content=chunks(), headers={"Content-Type": "application/json"}).status_code == 413
    assert _count(ctx, "SELECT count(*) FROM cases") == 0
    r = api.post("/api/v1/cases/CB-1/ratings", json={"stars": "many"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "stars"


def test_brute_force_locks_the_account_with_audit_and_notices(ctx, users) -> None:
    rule = ctx.policy.doc.security.sign_in
    anon = client(ctx)
    answers = [anon.post("/api/v1/auth/token", json={"username": "head", "password": f"guess{i}"}).status_code
               for i in range(60)]
    assert answers[:rule.account_failures] == [401] * rule.account_failures
    assert set(answers[rule.account_failures:]) == {429}
    right = anon.post("/api/v1/auth/token", json={"username": "head", "password": PASSWORD})
    assert right.status_code == 429 and "token" not in right.json()
    # An unknown name locks the same way: the lockout tells nothing about existence.
    ghost = [anon.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}).status_code
             for _ in range(rule.account_failures + 1)]
    assert ghost[-1] == 429
    assert _count(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.locked' AND subject_id = 'head'") == 1
    with ctx.engine.connect() as conn:
        notified = conn.execute(text("SELECT recipient FROM outbox WHERE kind = 'sign_in_locked' "
                                     "AND subject_id = 'account:head' ORDER BY recipient")).scalars().all()
    alert_role = ctx.policy.doc.operations_role
    assert notified == sorted(["head"] + [u for u, a in users.items() if a.role == alert_role])
    # Another address is not locked for a different name; once the lockout ends the right password works.
    assert client(ctx, "intern").get("/api/v1/me").status_code == 200
    ctx.clock.current += timedelta(minutes=rule.lockout_minutes + 1)
    assert anon.post("/api/v1/auth/token", json={"username": "head", "password": PASSWORD}).status_code == 200


def test_many_names_from_one_address_lock_the_address(ctx, users) -> None:
    rule = ctx.policy.doc.security.sign_in
    anon = client(ctx)
    for i in range(rule.address_failures):
        anon.post("/api/v1/auth/token", json={"username": f"user{i}", "password": "x"})
    r = anon.post("/api/v1/auth/token", json={"username": "intern", "password": PASSWORD})
    assert r.status_code == 429
    assert _count(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.locked' "
                       "AND subject_type = 'address'") == 1


def test_unknown_names_cost_the_same_time_as_known_ones(ctx, users) -> None:
    """Measured with the production argon2 cost; a generous band (the old code answered 20x faster)."""
    ctx.settings = ctx.settings.model_copy(update={"password_time_cost": 3, "password_memory_kib": 65_536})
    set_password(ctx, Actor.system("test"), "head", PASSWORD)
    anon = client(ctx)

    def attempt(name: str) -> float:
        start = time.perf_counter()
        assert anon.post("/api/v1/auth/token", json={"username": name, "password": "wrong-guess"}).status_code == 401
        return time.perf_counter() - start

    known, unknown = [], []
    for _ in range(3):
        known.append(attempt("head"))
        unknown.append(attempt("no-such-user"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)


def test_a_missing_task_and_a_forbidden_one_get_the_same_answer(ctx, users, full_case) -> None:
    from tests.conftest import PASSING, open_task
    from lifecycle.service import CaseService

    svc = CaseService(ctx)
    key = svc.create(users["author"], full_case)
    svc.fire(users["author"], key, "submit")
    task_id, _, _ = open_task(ctx, key)
    intern = client(ctx, "intern")
    forbidden = intern.post(f"/api/v1/review/tasks/{task_id}/claim")
    missing = intern.post(f"/api/v1/review/tasks/{task_id + 1000}/claim")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json()["error"].replace(str(task_id), "N") == missing.json()["error"].replace(
        str(task_id + 1000), "N")
    body = {"decision": "approve", "scores": PASSING}
    a = intern.post(f"/api/v1/review/tasks/{task_id}/decision", json=body)
    b = intern.post(f"/api/v1/review/tasks/{task_id + 1000}/decision", json=body)
    assert a.status_code == b.status_code == 404
    pages = page_client(ctx, "intern")
    pa = pages.post(f"/tasks/{task_id}/claim", follow_redirects=False)
    pb = pages.post(f"/tasks/{task_id + 1000}/claim", follow_redirects=False)
    assert pa.status_code == pb.status_code == 404


def test_api_docs_only_for_signed_in_users_and_without_a_cdn(ctx, users) -> None:
    anon = client(ctx)
    assert anon.get("/api/v1/docs", follow_redirects=False).status_code == 303
    assert anon.get("/api/v1/openapi.json").status_code == 401
    docs = page_client(ctx, "intern").get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/cases/{key}" in docs.text
    assert "<script" not in docs.text and "cdn" not in docs.text.lower()


def test_session_cookie_is_secure_unless_loopback_only(ctx, users) -> None:
    assert cookie_secure(None, None) and cookie_secure(None, "0.0.0.0") and cookie_secure(None, "example.org")
    assert not cookie_secure(None, "127.0.0.1") and not cookie_secure(None, "::1")
    assert cookie_secure(True, "127.0.0.1") and not cookie_secure(False, "0.0.0.0")
    from fastapi.testclient import TestClient

    from casebook.web.app import create_app

    c = TestClient(create_app(ctx, listen_host="0.0.0.0"), base_url="https://testserver")
    c.headers["Origin"] = "https://testserver"
    r = c.post("/login", data={"username": "intern", "password": PASSWORD, "csrf_token": form_token(c)},
               follow_redirects=False)
    assert r.status_code == 303
    assert "secure" in r.headers["set-cookie"].lower() and "httponly" in r.headers["set-cookie"].lower()

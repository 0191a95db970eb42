"""Reviewing and account care in the browser (server-rendered pages): the decision page, a low score turned into
a return, the per-section diff after a resubmit, the committee's sign-off, access offers, unfreezing, preferences."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text

from lifecycle.service import CaseService
from tests.conftest import PASSING, open_task
from tests.web_helpers import page_client, people, published_case

LOW = PASSING | {"inspiration": 2}


def _scores(values: dict[str, int]) -> dict[str, str]:
    return {f"score_{k}": str(v) for k, v in values.items()}


def test_three_levels_in_the_browser_with_a_return_and_a_finding(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = svc.create(users["author"], full_case)
    author = page_client(ctx, "author")
    r = author.post(f"/cases/{key}/events/submit", follow_redirects=False)
    assert r.status_code == 303
    spec = page_client(ctx, "spec")
    task_id = open_task(ctx, key)[0]
    r = spec.post(f"/tasks/{task_id}/claim")
    assert r.status_code == 200 and "task_held_by" not in r.text
    desk = r.text
    assert 'id="prechecks"' in desk and desk.count("data-check=") == 5
    assert not re.search(r'name="score_\w+">(<option value=""></option>)?<option value="\d" selected', desk)
    # a score below the pass mark is a return, with the form kept and a prompt for reasons
    r = spec.post(f"/tasks/{task_id}/decide", data={"decision": "approve", **_scores(LOW)})
    assert r.status_code == 422 and 'value="return" required checked' in r.text
    assert 'data-field="score_inspiration"' in r.text
    r = spec.post(f"/tasks/{task_id}/decide", data={"decision": "return", **_scores(LOW),
                                                   "reason_strategy": "策略寫得太籠統"}, follow_redirects=False)
    assert r.status_code == 303 and svc.view(users["author"], key).state == "returned"
    ctx.clock.advance(timedelta(hours=2))

    r = author.post(f"/cases/{key}/edit", data={"body_strategy": "以寫字樓午休為核心,先發探店筆記。",
                                                "action": "submit"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert svc.view(users["author"], key).state.startswith("review_l")
    task_id = open_task(ctx, key)[0]
    r = spec.post(f"/tasks/{task_id}/claim")
    assert 'data-section="strategy"' in r.text and "<ins>" in r.text and "策略寫得太籠統" in r.text
    assert spec.post(f"/tasks/{task_id}/decide", data={"decision": "approve", **_scores(PASSING)},
                     follow_redirects=False).status_code == 303

    head = page_client(ctx, "head")
    task_id = open_task(ctx, key)[0]
    head.post(f"/tasks/{task_id}/claim")
    assert head.post(f"/tasks/{task_id}/decide", data={"decision": "approve", **_scores(PASSING)},
                     follow_redirects=False).status_code == 303

    com = page_client(ctx, "com")
    task_id = open_task(ctx, key)[0]
    assert "redaction_signoff" not in com.post(f"/tasks/{task_id}/claim").text  # translated, linked
    sheet = com.get(f"/cases/{key}/signoff")
    assert sheet.status_code == 200 and 'id="tiers"' in sheet.text
    before = sheet.text.count("<mark data-entity")
    r = com.post(f"/cases/{key}/signoff", data={"action": "add", "field": "body.execution", "text": "兩名店員",
                                                "entity_type": "PERSON"}, follow_redirects=False)
    assert r.status_code == 303
    assert com.get(f"/cases/{key}/signoff").text.count("<mark data-entity") == before + 1
    assert com.post(f"/tasks/{task_id}/decide", data={"decision": "approve", **_scores(PASSING)},
                    follow_redirects=False).status_code == 303
    assert svc.view(users["author"], key).state == "approved"


def test_access_offers_unfreeze_and_preferences(ctx, full_case, cli) -> None:
    users = people(ctx)
    secret = published_case(ctx, users, full_case, "confidential")
    internal = published_case(ctx, users, full_case, "internal", author="author_sales")
    intern = page_client(ctx, "intern").get(f"/cases/{secret}")
    assert intern.status_code == 403 and 'name="reason"' not in intern.text
    offered = page_client(ctx, "staff_sales").get(f"/cases/{secret}")
    assert 'name="reason"' not in offered.text                        # clearance too low: not offered
    offered = page_client(ctx, "intern").get(f"/cases/{internal}")
    assert offered.status_code == 403 and ('name="reason"' in offered.text) == (
        ctx.policy.clearance_rank("public") >= ctx.policy.classification_rank("internal"))

    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET frozen_reason = 'bulk downloads' WHERE username = 'exec'"))
    ops = page_client(ctx, "ops")
    assert 'data-item="account-exec"' in ops.get("/").text
    code, _out, err = cli("users", "unfreeze", "exec", "--reason", "", "--as", "ops")
    assert code == 2 and "reason" in err
    assert cli("users", "unfreeze", "exec", "--reason", "已核實為正常工作", "--as", "author")[0] == 6
    code, _out, err = cli("users", "unfreeze", "exec", "--reason", "已核實為正常工作", "--as", "ops")
    assert code == 0, err
    page_client(ctx, "exec")                                               # signs in again
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_events WHERE action = 'user.unfrozen'")).scalar() == "ops"

    me = page_client(ctx, "author")
    bad = me.post("/preferences", data={"channel": "email", "mode": "digest", "quiet_start": "25:00",
                                        "quiet_end": "", "locale": "en"})
    assert bad.status_code == 422 and 'data-field="quiet_start"' in bad.text
    ok = me.post("/preferences", data={"channel": "email", "mode": "digest", "quiet_start": "22:00",
                                       "quiet_end": "07:30", "locale": "en"})
    assert ok.status_code == 200 and "Notification preferences" in ok.text
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT mode FROM notification_preferences WHERE username = 'author'")
                            ).scalar() == "digest"

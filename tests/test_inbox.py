"""One inbox per person: every flow that creates work puts it in its assignee's inbox (page, CLI, API), and
work items close with a decision that is audited and acted on."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from flows.registry import run_job
from library.feedback import rate, request_correction
from library.inbox import inbox
from access.requests import request_access
from lifecycle.service import CaseService
from tests.web_helpers import client, page_client, people, published_case


def _kinds(ctx, actor) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in inbox(ctx, actor):
        out.setdefault(item.kind, []).append(item)
    return out


def _outbox(ctx, kind: str) -> list[str]:
    with ctx.engine.connect() as conn:
        return list(conn.execute(text("SELECT recipient FROM outbox WHERE kind = :k"), {"k": kind}).scalars())


def test_every_flow_puts_its_task_in_the_assignees_inbox_and_closing_acts(ctx, full_case, cli, monkeypatch) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = published_case(ctx, users, full_case, "internal")

    draft = svc.create(users["author"], full_case | {"title": "待提交的草稿"})
    code, out, err = cli("tasks", "--as", "author", "--json", "--now", ctx.clock.now().isoformat())
    assert code == 0, err
    mine = {i["id"]: i for i in json.loads(out)}
    assert mine[f"case-{draft}"]["kind"] == "submission" and mine[f"case-{draft}"]["case"] == draft
    assert {"id", "kind", "case", "due", "status"} <= set(mine[f"case-{draft}"])

    review = svc.create(users["author"], full_case | {"title": "送審的案例"})
    svc.fire(users["author"], review, "submit")
    api = client(ctx, "spec").get("/api/v1/me/tasks").json()
    assert [i["kind"] for i in api if i["case"] == review] == ["review"]
    assert "claim" in page_client(ctx, "spec").get("/").text

    # a correction request is owed by the owner, due per policy, and its answer reaches the requester
    request_correction(ctx, users["exec"], key, "第二段的數字寫錯了")
    corr = _kinds(ctx, users["author"])["correction"][0]
    assert corr.case == key and corr.due == ctx.clock.now() + timedelta(
        hours=ctx.policy.doc.ratings.correction_answer_hours)
    r = client(ctx, "author").post(f"/api/v1/work-items/{corr.ref}/close",
                                   json={"decision": "answered", "reason": "已更正為三千四百人"})
    assert r.status_code == 200 and r.json() == {"status": "done"}
    assert "exec" in _outbox(ctx, "correction_answer")
    assert "correction" not in _kinds(ctx, users["author"])

    # an access request waits in the department head's inbox, is decided on the page, the requester told
    request_access(ctx, users["staff_sales"], key, "做競品分析需要參考")
    acc = _kinds(ctx, users["head"])["access_request"][0]
    assert acc.case == key and "access_request" not in _kinds(ctx, users["head_sales"])
    r = page_client(ctx, "head").post(f"/access-requests/{acc.ref}/decide", data={"decision": "approve"},
                                      follow_redirects=False)
    assert r.status_code == 303
    assert _outbox(ctx, "access_decision") == ["staff_sales"]

    # low ratings: a rectification in operations' inbox, closed there with what was changed
    for reader in ("head", "exec", "staff_sales"):
        rate(ctx, users[reader], key, 2)
    run_job(ctx, "low_rating_rectification", deliver_after=False)
    rect = _kinds(ctx, users["ops"])["rectification"][0]
    assert rect.case == key
    page = page_client(ctx, "ops")
    assert f'data-item="work-{rect.ref}"' in page.get("/").text
    r = page.post(f"/work/{rect.ref}/close", data={"decision": "rectified", "reason": "補充了數據來源"},
                  follow_redirects=False)
    assert r.status_code == 303 and "rectification" not in _kinds(ctx, users["ops"])

    # stale content: the owner owes an update
    ctx.clock.advance(timedelta(days=31 * 7))
    run_job(ctx, "staleness_audit", deliver_after=False)
    assert [i.case for i in _kinds(ctx, users["author"])["update"]] == [key]

    # the health check's tasks carry their case (a share that proposes the one live case)
    monkeypatch.setitem(ctx.policy.doc.health_check.__dict__, "yearly_retire_share", 1.0)  # frozen model
    run_job(ctx, "yearly_health_check", deliver_after=False)
    health = [i for k, v in _kinds(ctx, users["ops"]).items() if k.startswith("health_") for i in v]
    assert health and all(i.case for i in health)

    # expiry: an evaluation in operations' inbox; closing it with renew fires renew
    ctx.clock.advance(timedelta(days=365 * 3))
    run_job(ctx, "expiry_audit", deliver_after=False)
    evaluation = _kinds(ctx, users["ops"])["evaluation"][0]
    assert evaluation.case == key
    code, _out, err = cli("tasks", "close", str(evaluation.ref), "--decision", "retire", "--reason", "",
                          "--as", "ops", "--now", ctx.clock.now().isoformat())
    assert code == 2 and "reason" in err
    code, _out, err = cli("tasks", "close", str(evaluation.ref), "--decision", "renew", "--reason", "仍有參考價值",
                          "--as", "ops", "--now", ctx.clock.now().isoformat())
    assert code == 0, err
    assert svc.view(users["ops"], key).state == "updating"
    with ctx.engine.connect() as conn:
        closed = conn.execute(text("SELECT actor, details FROM audit_events WHERE action = 'work_item.done' "
                                   "AND subject_id = :i"), {"i": str(evaluation.ref)}).one()
    assert closed.actor == "ops"
    assert "evaluation" not in _kinds(ctx, users["ops"])
    # someone else's item cannot be closed, and a closed one cannot be closed again
    assert client(ctx, "author").post(f"/api/v1/work-items/{evaluation.ref}/close",
                                      json={"decision": "retire", "reason": "x"}).status_code == 403

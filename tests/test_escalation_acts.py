"""Escalation acts: the backup takes over an overdue review; retired cases are archived after the policy's days;
a micro-case not live in time reaches operations' inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from casebook.core.errors import Forbidden
from flows.registry import run_job
from library.inbox import inbox
from lifecycle.service import CaseService
from review import queue
from tests.conftest import PASSING, open_task
from tests.web_helpers import people, published_case
from review import decisions


def test_backup_takes_over_an_overdue_review_and_decides(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = svc.create(users["author"], full_case)
    svc.fire(users["author"], key, "submit")
    task_id, _status, _holder = open_task(ctx, key)
    queue.claim(ctx, users["spec"], task_id)
    with pytest.raises(Forbidden):
        queue.claim(ctx, users["ops"], task_id)          # not overdue yet: only the candidate group
    ctx.clock.advance(timedelta(days=7))
    assert f"review-{task_id}" in [i.id for i in inbox(ctx, users["ops"])]
    with pytest.raises(Forbidden):
        queue.claim(ctx, users["exec"], task_id)         # not the level's backup
    queue.claim(ctx, users["ops"], task_id)
    assert open_task(ctx, key)[2] == "ops"
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_events WHERE action = 'review.claim_backup'")
                            ).scalar() == "ops"
    assert decisions.decide(ctx, users["ops"], task_id, {"decision": "approve", "scores": PASSING}) == "review_l2"


def test_retired_cases_are_archived_and_late_micro_cases_alert_operations(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = published_case(ctx, users, full_case, "public")
    svc.fire(users["ops"], key, "retire", reason="內容已過時")
    ctx.clock.advance(timedelta(days=ctx.policy.doc.lifecycle.archive_after_retired_days, seconds=1))
    assert run_job(ctx, "archive_retired", deliver_after=False)["archived"] == 1
    assert svc.view(users["ops"], key).state == "archived"

    micro = svc.create(users["author"], {"title": "進行中的微案例", "library": "enterprise_practice",
                                         "classification": "internal", "department": "marketing", "micro": True})
    ctx.clock.advance(timedelta(hours=ctx.policy.doc.deadlines.micro_case_live_hours - 1))
    assert run_job(ctx, "micro_case_watch", deliver_after=False)["micro_not_live"] == 0
    ctx.clock.advance(timedelta(hours=2))
    assert run_job(ctx, "micro_case_watch", deliver_after=False)["micro_not_live"] == 1
    assert run_job(ctx, "micro_case_watch", deliver_after=False)["micro_not_live"] == 0
    assert [i.case for i in inbox(ctx, users["ops"]) if i.kind == "micro_not_live"] == [micro]

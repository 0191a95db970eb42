"""The scheduled archive writes a coded reason into the audit trail: a reader sees it in their own language (the
case history on the command line, the trail on the case page), never the English sentence it used to store."""

from __future__ import annotations

from datetime import timedelta

from casebook.core.reasons import decode, render
from casebook.web.i18n import writer
from flows.registry import run_job
from lifecycle.service import CaseService
from redaction.views import shown_history
from tests.web_helpers import people, published_case


def test_archive_reason_is_coded_and_read_in_each_language(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    key = published_case(ctx, users, full_case, "public")
    svc.fire(users["ops"], key, "retire", reason="內容已過時")
    days = ctx.policy.doc.lifecycle.archive_after_retired_days
    ctx.clock.advance(timedelta(days=days, seconds=1))
    assert run_job(ctx, "archive_retired", deliver_after=False)["archived"] == 1

    _, events = shown_history(ctx, users["ops"], key)
    stored = next(e for e in events if e["action"] == "case.archive")["details"]["reason"]
    assert decode(stored) == [{"code": "archived_after_retirement", "days": days}]
    assert render(stored, "en") == f"archived after the retirement period ({days:,} days)"
    assert "退役已滿" in render(stored, "zh-Hant") and "退役已满" in render(stored, "zh-Hans")
    page = writer("zh-Hant", ctx.policy)
    assert page.system_reason(stored) == render(stored, "zh-Hant")
    assert page.system_reason("內容已過時") == ""   # a person's words are case text: not shown unredacted

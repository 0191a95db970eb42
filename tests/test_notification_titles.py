"""A notification shows a case's title as the case's own page does at the recipient's tier: from the stored
rendering (the case's pseudonyms, overrides), not masked from the title alone."""

from __future__ import annotations

from sqlalchemy import select

from casebook.core.users import Actor
from lifecycle.models import Case
from lifecycle.service import CaseService
from notifications.audience import case_ref
from notifications.render import Recipient, render_message
from redaction.tiers import Audience
from redaction.views import render_view
from flows.registry import run_job
from tests.conftest import decide
from tests.web_helpers import people as web_people


def test_the_title_in_a_message_is_the_one_the_case_page_shows(ctx, full_case) -> None:
    people = web_people(ctx)
    svc = CaseService(ctx)
    doc = full_case | {"title": "林志明主導的快閃店", "classification": "public", "library": "industry_benchmark",
                       "body": full_case["body"] | {"execution": "林雅婷負責執行，林志明協助。"}}
    key = svc.create(people["author"], doc)
    svc.fire(people["author"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, people[reviewer], key)
    run_job(ctx, "publish_approved", deliver_after=False)
    page = render_view(ctx, svc.view(people["intern"], key), Audience("public", "public")).document["title"]
    assert page == "林某甲主導的快閃店"  # two 林 in the case: the title's is the first
    with ctx.engine.connect() as conn:
        ref = case_ref(conn.execute(select(Case.__table__).where(Case.__table__.c.key == key)).one(), conn)
    intern: Actor = people["intern"]
    message = render_message(ctx.policy, "stale_case", {"case": ref, "last_update": "2026-05-01"},
                             Recipient(intern, "intern@example.test", "en"))
    assert "林某甲主導的快閃店" in message.subject + message.text
    assert "林志明" not in message.subject + message.text + message.html
    assert "林某主導" not in message.subject + message.text   # what masking the title alone gave
    author = render_message(ctx.policy, "stale_case", {"case": ref, "last_update": "2026-05-01"},
                            Recipient(people["author"], "author@example.test", "en"))
    assert "林志明主導的快閃店" in author.subject + author.text  # the author's tier shows the name

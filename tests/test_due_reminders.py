"""The 48-hour clocks (issue 14 item 5): correction answers and rectification starts are reminded before their
due time and escalated after it, as a pure decision applied idempotently by the job; stale cases left
un-updated past the grace period become a re-check task in the operations inbox. The clock is injected."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from casebook.core.clock import add_months
from flows.registry import run_job
from library.feedback import rate, request_correction
from library.inbox import inbox
from lifecycle.jobs_due import DUE_SOON, OVERDUE, stale_recheck, work_due_decision, work_item_reminders
from lifecycle.service import CaseService
from lifecycle.work import close_work_item
from notifications.models import OutboxMessage
from tests.conftest import TZ, decide, make_users
from tests.delivery_fixtures import sink  # noqa: F401 - a fixture

OUTBOX = OutboxMessage.__table__
DUE = datetime(2026, 10, 22, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(("hours", "expected"), [
    (-13, None), (-12, (DUE_SOON, "due-soon", -1)), (-0.01, (DUE_SOON, "due-soon", -1)),
    (0, (OVERDUE, "overdue-0", 0)), (23.9, (OVERDUE, "overdue-0", 0)), (24, (OVERDUE, "overdue-1", 1)),
    (500, (OVERDUE, "overdue-1", 1))])
def test_what_is_due_is_a_pure_function_of_policy_due_time_and_clock(policy, hours, expected) -> None:
    rp = policy.doc.ratings
    assert (rp.due_reminder_hours, rp.escalation_interval_hours, len(rp.escalation_chain)) == (12, 24, 2)
    assert work_due_decision(policy, DUE, DUE + timedelta(hours=hours)) == expected


@pytest.fixture
def people(ctx):
    out = make_users(ctx, ("alice", "staff", "marketing"), ("bob", "staff", "marketing"),
                     ("carol", "staff", "marketing"), ("dave", "staff", "marketing"),
                     ("spec", "case_specialist", "ops"), ("head", "department_head", "marketing"),
                     ("head_sales", "department_head", "sales"), ("com", "committee_member", "committee"),
                     ("ops", "operations", "ops"), ("ops2", "operations", "ops"))
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = username || '@example.test', locale = 'zh-Hant'"))
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'head'"))
    return out


def _published(ctx, people, full_case) -> str:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], full_case | {"library": "industry_benchmark"})
    svc.fire(people["alice"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, people[reviewer], key)
    svc.fire(people["ops"], key, "publish")
    return key


def _notices(ctx, kind: str) -> list[tuple[str, str]]:
    with ctx.engine.connect() as conn:
        return sorted(conn.execute(select(OUTBOX.c.recipient, OUTBOX.c.period).where(OUTBOX.c.kind == kind)).all())


def test_a_correction_answer_is_reminded_then_escalated_up_the_chain_once_each(ctx, people, full_case,
                                                                               sink) -> None:
    key = _published(ctx, people, full_case)
    start = ctx.clock.now()
    request_correction(ctx, people["bob"], key, "會員數字與附件不符")
    hours = ctx.policy.doc.ratings.correction_answer_hours

    ctx.clock.current = start + timedelta(hours=hours - 13)          # not yet within the reminder window
    assert work_item_reminders(ctx) == {"reminders": 0, "escalations": 0}
    ctx.clock.current = start + timedelta(hours=hours - 11)
    assert work_item_reminders(ctx) == {"reminders": 1, "escalations": 0}
    assert work_item_reminders(ctx) == {"reminders": 0, "escalations": 0}   # a rerun writes nothing
    assert _notices(ctx, DUE_SOON) == [("alice", "due-soon")]

    ctx.clock.current = start + timedelta(hours=hours + 1)            # overdue: the owner and the department head
    assert work_item_reminders(ctx)["escalations"] == 2
    ctx.clock.current = start + timedelta(hours=hours + 2)
    assert work_item_reminders(ctx)["escalations"] == 0
    ctx.clock.current = start + timedelta(hours=hours + 25)           # a day later: the committee too
    assert work_item_reminders(ctx)["escalations"] == 2
    assert _notices(ctx, OVERDUE) == [("alice", "overdue-0"), ("alice", "overdue-1"), ("com", "overdue-1"),
                                      ("head", "overdue-0")]          # not head_sales: another department

    run_job(ctx, "deliver_notifications")
    mails = {(m["To"].split("@")[0], m["X-Casebook-Key"].split("|")[3]): m for m in sink.messages
             if m["X-Casebook-Key"].startswith(("work_due_soon|", "work_overdue|"))}
    assert set(mails) == {("alice", "due-soon"), ("alice", "overdue-0"), ("alice", "overdue-1"),
                          ("com", "overdue-1"), ("head", "overdue-0")} and sink.duplicates() == 0
    assert str(mails[("head", "overdue-0")]["Subject"]) == f"Overdue: {key}"
    head_text = mails[("head", "overdue-0")].get_body(("plain",)).get_content()
    assert "the answer to a correction request" in head_text and "assignee: alice" in head_text
    assert str(mails[("alice", "due-soon")]["Subject"]) == f"即將到期:{key}"

    with ctx.engine.connect() as conn:
        item = conn.execute(text("SELECT id FROM work_items WHERE kind = 'correction'")).scalar_one()
    close_work_item(ctx, people["alice"], item, "answered", "數字已按附件更正")
    ctx.clock.current = start + timedelta(hours=hours + 80)
    assert work_item_reminders(ctx) == {"reminders": 0, "escalations": 0}   # answered: the clock stops


def test_a_rectification_start_is_reminded_to_operations_and_escalated(ctx, people, full_case) -> None:
    key = _published(ctx, people, full_case)
    for reader in ("bob", "carol", "dave"):
        rate(ctx, people[reader], key, 1)
    start = ctx.clock.now()
    assert run_job(ctx, "low_rating_rectification", deliver_after=False)["rectifications"] == 1
    hours = ctx.policy.doc.ratings.rectification_start_hours
    ctx.clock.current = start + timedelta(hours=hours - 1)
    assert run_job(ctx, "work_item_reminders", deliver_after=False) == {"reminders": 2, "escalations": 0}
    ctx.clock.current = start + timedelta(hours=hours + 3)
    assert run_job(ctx, "work_item_reminders", deliver_after=False) == {"reminders": 0, "escalations": 3}
    assert _notices(ctx, OVERDUE) == [("head", "overdue-0"), ("ops", "overdue-0"), ("ops2", "overdue-0")]


def test_a_stale_case_not_updated_gets_a_recheck_in_the_operations_inbox(ctx, people, full_case) -> None:
    key = _published(ctx, people, full_case)
    svc = CaseService(ctx)
    ctx.clock.current = add_months(ctx.clock.now(), ctx.policy.doc.lifecycle.staleness_months) + timedelta(days=1)
    assert run_job(ctx, "staleness_audit", deliver_after=False)["stale"] == 1
    flagged = ctx.clock.now()
    grace = ctx.policy.doc.lifecycle.stale_recheck_grace_days
    ctx.clock.current = flagged + timedelta(days=grace - 1)
    assert stale_recheck(ctx) == {"stale_rechecks": 0}
    ctx.clock.current = flagged + timedelta(days=grace, hours=1)
    assert stale_recheck(ctx) == {"stale_rechecks": 1}
    assert stale_recheck(ctx) == {"stale_rechecks": 0}                      # once per flagging
    items = [i for i in inbox(ctx, people["ops2"]) if i.kind == "stale_recheck"]
    assert [(i.case, i.status) for i in items] == [(key, "open")]
    assert items[0].actions == ["keep", "start_update", "retire", "cancel"]
    assert not [i for i in inbox(ctx, people["bob"]) if i.kind == "stale_recheck"]
    assert {r for r, _ in _notices(ctx, "stale_recheck")} == {"ops", "ops2", "alice"}
    close_work_item(ctx, people["ops2"], items[0].ref, "start_update", "數據已過期,請作者更新")
    assert svc.view(people["ops"], key).state == "updating"
    assert stale_recheck(ctx) == {"stale_rechecks": 0}

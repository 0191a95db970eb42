"""Outbox, delivery to a real SMTP server (aiosmtpd on 127.0.0.1), retries, dead letters, crash safety,
templates by locale with redaction, and the scheduled jobs with the clock moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from casebook.core.errors import InvalidInput
from flows.registry import run_job
from lifecycle.service import CaseService
from notifications.channels import check_channels
from notifications.delivery import deliver
from notifications.models import OutboxMessage, Preference
from notifications.outbox import enqueue
from notifications.sink import SmtpSink
from tests.conftest import decide, make_users, query_plan

OUTBOX = OutboxMessage.__table__


@pytest.fixture
def sink(ctx):
    with SmtpSink() as s:
        ctx.settings = ctx.settings.model_copy(update={"smtp_port": s.port, "smtp_host": "127.0.0.1"})
        yield s


@pytest.fixture
def people(ctx):
    out = make_users(ctx, ("alice", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                     ("head", "department_head", "marketing"), ("com", "committee_member", "committee"),
                     ("ops", "operations", "ops"), ("intern", "intern", "marketing"), ("exec", "executive", "board"))
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = username || '@example.test'"))
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'intern'"))
    return out


def _queue(ctx, n: int, recipient: str = "alice", kind: str = "dead_letter") -> None:
    with ctx.engine.begin() as conn:
        for i in range(n):
            enqueue(conn, kind=kind, subject_id=f"s{i}", recipient=recipient, period="p",
                    payload={"failed_key": f"k{i}", "failed_kind": "x", "failed_recipient": "y", "attempts": 1,
                             "error": "e"}, now=ctx.clock.now(), digestible=kind != "dead_letter")


def _status(ctx) -> dict[str, int]:
    with ctx.engine.connect() as conn:
        return dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())


def test_enqueue_is_idempotent_per_key(ctx, people) -> None:
    _queue(ctx, 3)
    _queue(ctx, 3)
    assert _status(ctx) == {"pending": 3}


def test_a_crash_mid_batch_neither_duplicates_nor_loses(ctx, people, sink) -> None:
    _queue(ctx, 40)
    with pytest.raises(SystemExit):
        deliver(ctx, crash_after=15)
    assert len(sink.messages) == 15
    ctx.clock.current += timedelta(seconds=ctx.policy.doc.notifications.lease_seconds + 1)   # leases run out
    report = deliver(ctx)
    assert report.sent == 25 and sink.count() == 40 and sink.duplicates() == 0
    assert _status(ctx) == {"sent": 40}
    assert deliver(ctx).sent == 0                                            # a rerun sends nothing


def test_smtp_down_retries_with_backoff_then_delivers(ctx, people, sink) -> None:
    _queue(ctx, 3)
    sink.refuse = True
    first = deliver(ctx)
    assert first.failed == 3 and sink.count() == 0
    with ctx.engine.connect() as conn:
        row = conn.execute(select(OUTBOX).limit(1)).one()
    assert row.attempts == 1 and "451" in row.last_error
    assert deliver(ctx).sent == 0                                            # not due again yet
    ctx.clock.current += timedelta(seconds=ctx.policy.doc.notifications.backoff_seconds)
    sink.refuse = False
    assert deliver(ctx).sent == 3 and sink.duplicates() == 0


def test_after_the_policy_attempts_a_message_is_dead_lettered_and_operations_alerted(ctx, people, sink) -> None:
    with ctx.engine.begin() as conn:
        enqueue(conn, kind="stale_case", subject_id="CB-1", recipient="alice", period="p", now=ctx.clock.now(),
                payload={"case": {"key": "CB-1", "title": "t", "classification": "public", "department": "m",
                                  "author_id": 0, "owner_id": 0}, "last_update": "2026-01-01"})
    sink.refuse = True
    for _ in range(ctx.policy.doc.notifications.max_attempts):
        deliver(ctx)
        ctx.clock.current += timedelta(seconds=ctx.policy.doc.notifications.backoff_max_seconds)
    assert _status(ctx).get("dead") == 1
    sink.refuse = False
    deliver(ctx)
    alerts = [m for m in sink.messages if m["X-Casebook-Key"].startswith("dead_letter|")]
    assert len(alerts) == 1 and alerts[0]["To"] == "ops@example.test"


def test_bad_channel_settings_fail_at_start_up(ctx) -> None:
    bad = ctx.settings.model_copy(update={"mail_from": "nobody", "smtp_port": 0,
                                          "chat_groups": {"operations": "nonsense-url"}})
    with pytest.raises(InvalidInput) as err:
        check_channels(bad)
    fields = {p.field for p in err.value.problems}
    assert fields == {"CASEBOOK_MAIL_FROM", "CASEBOOK_SMTP_PORT", "CASEBOOK_CHAT_GROUPS.operations"}
    check_channels(ctx.settings.model_copy(update={"chat_groups": {"operations": "wecombot://abcdef123456"}}))


def test_emails_are_localised_have_both_parts_and_are_redacted_per_recipient(ctx, people, sink, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], full_case | {"title": "預算50萬元的快閃店", "classification": "public"})
    with ctx.engine.begin() as conn:
        case = conn.execute(text("SELECT * FROM cases WHERE key = :k"), {"k": key}).one()
        ref = {"key": key, "title": case.title, "classification": "public", "department": "marketing",
               "author_id": case.author_id, "owner_id": case.owner_id}
        for user in ("alice", "intern", "exec"):
            enqueue(conn, kind="stale_case", subject_id=key, recipient=user, period="p", now=ctx.clock.now(),
                    payload={"case": ref, "last_update": "2026-05-01"})
    deliver(ctx)
    by_to = {m["To"]: m for m in sink.messages}
    intern, alice, exe = by_to["intern@example.test"], by_to["alice@example.test"], by_to["exec@example.test"]
    assert intern["Subject"].startswith("Case needs an update")               # en for the intern
    assert alice["Subject"].startswith("案例需要更新")
    parts = {p.get_content_type(): p.get_content() for p in intern.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "30-70萬元" in parts["text/plain"] and "50萬元" not in parts["text/plain"].replace("30-70萬元", "")
    assert "30-70萬元" in parts["text/html"]
    alice_text = next(p.get_content() for p in alice.walk() if p.get_content_type() == "text/plain")
    exec_text = next(p.get_content() for p in exe.walk() if p.get_content_type() == "text/plain")
    assert "預算50萬元" in alice_text and "預算50萬元" in exec_text                # author; executive


def test_digest_preference_and_quiet_hours(ctx, people, sink) -> None:
    with ctx.sessions.begin() as s:
        s.add(Preference(username="alice", mode="digest"))
        s.add(Preference(username="spec", quiet_start="22:00", quiet_end="08:00"))
    ctx.clock.current = ctx.clock.current.replace(hour=23, minute=0)
    _queue(ctx, 2, recipient="alice", kind="dead_letter")                     # alerts are never held back
    with ctx.engine.begin() as conn:
        for who in ("alice", "spec"):
            enqueue(conn, kind="stale_case", subject_id="CB-9", recipient=who, period="p", now=ctx.clock.now(),
                    payload={"case": {"key": "CB-9", "title": "t", "classification": "public", "department": "m",
                                      "author_id": 0, "owner_id": 0}, "last_update": "2026-01-01"})
    report = deliver(ctx)
    assert report.sent == 2 and report.deferred == 1                        # alice's alerts; spec is in quiet hours
    ctx.clock.current = ctx.clock.current.replace(hour=8, minute=0) + timedelta(days=1)
    assert deliver(ctx).sent == 1                                           # spec at the end of quiet hours
    with ctx.engine.connect() as conn:
        held = conn.execute(text("SELECT recipient, status, digest FROM outbox WHERE kind = 'stale_case'")).all()
    assert sorted(map(tuple, held)) == [("alice", "pending", True), ("spec", "sent", False)], held
    counts = run_job(ctx, "digests")
    assert counts["digests"] >= 1
    digest = [m for m in sink.messages if m["To"] == "alice@example.test" and "reviewer_digest" in m["X-Casebook-Key"]]
    assert len(digest) == 1 and "CB-9" in digest[0].get_body(("plain",)).get_content()
    assert _status(ctx).get("digested") == 1


def test_submission_reminders_then_escalation_along_the_chain(ctx, people, sink, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], full_case | {"project_end": "2026-11-01", "project_start": "2026-10-01"})
    due = svc.view(people["alice"], key).facts["submission_due"]
    assert due.startswith("2026-11-16")
    seen: list[tuple[str, str]] = []
    for day in range(5, 30):
        ctx.clock.current = ctx.clock.current.replace(month=11 if day <= 30 else 12, day=day, hour=9)
        run_job(ctx, "submission_reminders")
        run_job(ctx, "submission_reminders")                                # a rerun the same day: nothing new
    for m in sink.messages:
        kind, _, to, period = m["X-Casebook-Key"].split("|")
        seen.append((to, period))
    assert sink.duplicates() == 0
    assert [p for to, p in seen if to == "alice" and p.startswith("before")] == ["before-7", "before-3", "before-1"]
    assert ("head", "overdue-0") in seen and ("com", "overdue-1") in seen
    assert ("com", "overdue-0") not in seen


def test_expiry_audit_moves_to_pending_evaluation_with_a_task(ctx, people, sink, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], full_case | {"library": "industry_benchmark"})
    svc.fire(people["alice"], key, "submit")
    for who in ("spec", "head", "com"):
        decide(ctx, people[who], key)
    assert run_job(ctx, "publish_approved")["published"] == 1
    ctx.clock.current += timedelta(days=24 * 31)
    counts = run_job(ctx, "expiry_audit")
    assert counts["expired"] == 1 and svc.view(people["ops"], key).state == "pending_evaluation"
    assert run_job(ctx, "expiry_audit")["expired"] == 0
    with ctx.engine.connect() as conn:
        items = conn.execute(text("SELECT kind, assignee_role FROM work_items")).all()
    assert [tuple(i) for i in items] == [("evaluation", "operations")]
    assert {m["To"] for m in sink.messages if "expiry_evaluation" in m["X-Casebook-Key"]} == \
        {"ops@example.test", "alice@example.test"}


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-60, max_value=60))
def test_submission_decisions_are_a_pure_function_of_the_dates(offset: int) -> None:
    """At most one notice a day; reminders only before the deadline at policy offsets; escalation steps grow
    with lateness and stay within the policy chain."""
    from datetime import date

    from lifecycle.jobs import submission_decisions
    from policies.loader import load_policy
    from casebook.core.settings import get_settings

    policy = load_policy(get_settings().policy_path)
    sub = policy.doc.deadlines.submission
    today = date(2026, 11, 22)
    due = today + timedelta(days=offset)
    out = submission_decisions(policy, due, today)
    assert out == submission_decisions(policy, due, today) and len(out) <= 1
    if offset >= 0:
        assert out == ([] if offset > max(sub.reminder_offsets_days) else
                       [("submission_reminder", f"before-{min(o for o in sub.reminder_offsets_days if offset <= o)}", -1)])
    else:
        kind, period, step = out[0]
        assert kind == "submission_overdue" and 0 <= step < len(sub.escalation_chain)
        later = submission_decisions(policy, due - timedelta(days=1), today)[0][2]
        assert later >= step


def test_the_sink_in_its_own_process_counts_every_message_and_each_duplicate(tmp_path) -> None:
    """What ``casebook simulate`` and the benches rely on for ``duplicate_notifications``."""
    from casebook.core.settings import Settings
    from notifications.channels import Envelope, send_email_batch
    from notifications.render import Message
    from notifications.sink import SinkProcess

    results: list[str | None] = []
    with SinkProcess() as sink:
        settings = Settings(home=tmp_path, smtp_host="127.0.0.1", smtp_port=sink.port)
        message = Message("提醒", "正文\n", "<p>正文</p>")
        envelopes = [Envelope(key, "a@example.test", message) for key in ("k|1", "k|2", "k|1", "k|" + "長" * 80)]
        send_email_batch(settings, envelopes, lambda i, error: results.append(error))
        assert results == [None] * 4
        assert sink.count() == 4 and sink.duplicates() == 1
        assert sink.keys()["k|" + "長" * 80] == 1                 # a long, folded header reads back whole
    assert sink._proc is not None and sink._proc.poll() is not None  # stopped on exit


def test_rows_picked_by_id_are_looked_up_by_primary_key_and_rechecked(ctx) -> None:
    """Claiming and folding re-check the status of rows already picked by id: only rows still in that status
    change, and the database finds them through the primary key, not by walking every row in the status
    (SQLite without statistics took ix_outbox_due, about 14x slower with 20,000 rows pending)."""
    from sqlalchemy import update

    from notifications.models import PENDING, picked

    outbox = OutboxMessage.__table__
    _queue(ctx, 3, recipient="nobody")
    with ctx.engine.begin() as conn:
        ids = list(conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars())
        conn.execute(update(outbox).where(outbox.c.id == ids[0]).values(status="sent"))
        stmt = update(outbox).where(picked(ids, PENDING)).values(status="digested")
        assert conn.execute(stmt).rowcount == 2
        plan = query_plan(conn, stmt, forced=True)
        if conn.dialect.name == "sqlite":
            assert "INTEGER PRIMARY KEY" in plan and "ix_outbox_due" not in plan, plan
        else:
            assert "pk_outbox" in plan and "ix_outbox_due" not in plan, plan
    assert _status(ctx) == {"sent": 1, "digested": 2}


def test_a_poison_message_is_dead_lettered_at_once_and_the_rest_of_the_batch_is_delivered(ctx, people, sink) -> None:
    _queue(ctx, 4)                                                           # four good rows
    with ctx.engine.begin() as conn:                                         # one its template cannot render
        enqueue(conn, kind="stale_case", subject_id="CB-bad", recipient="alice", period="p", now=ctx.clock.now(),
                payload={"unexpected": True})
    report = deliver(ctx)
    assert report.dead == 1 and sink.count() >= 4
    with ctx.engine.connect() as conn:
        rows = {r.subject_id: r for r in conn.execute(select(OUTBOX).where(OUTBOX.c.recipient == "alice"))}
    assert [k for k, r in rows.items() if r.status == "sent"] == ["s0", "s1", "s2", "s3"]
    bad = rows["CB-bad"]
    assert bad.status == "dead" and bad.attempts == 1 and "cannot be rendered" in bad.last_error
    role = ctx.policy.doc.notifications.dead_letter_role
    alerts = [m for m in sink.messages if m["X-Casebook-Key"].startswith("dead_letter|stale_case|CB-bad")]
    assert [m["To"] for m in alerts] == [f"{u}@example.test" for u, a in people.items() if a.role == role]
    assert deliver(ctx).sent == 0 and _status(ctx).get("dead") == 1         # nothing stalls, nothing is resent


def test_a_permanent_smtp_refusal_is_dead_lettered_without_retries(ctx, people, sink) -> None:
    _queue(ctx, 2, recipient="alice")
    _queue(ctx, 1, recipient="spec")
    sink.unknown = {"spec@example.test"}
    report = deliver(ctx)
    assert report.dead == 1 and report.failed == 0
    with ctx.engine.connect() as conn:
        rows = {(r.recipient, r.subject_id): r for r in conn.execute(select(OUTBOX).where(OUTBOX.c.kind != "x"))}
    assert rows[("spec", "s0")].status == "dead" and "550" in rows[("spec", "s0")].last_error
    assert rows[("alice", "s0")].status == rows[("alice", "s1")].status == "sent"

"""The audit chain verifies after any sequence of events and detects every out-of-band change."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import NoResultFound

from casebook.core import audit
from casebook.core.errors import CasebookError
from casebook.core.users import Actor
from lifecycle import states as S
from lifecycle.service import CaseService
from tests.conftest import PASSING, _truncate, decide, make_users


def _case_with_events(ctx, users, full_case) -> str:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")              # + automatic start_review
    decide(ctx, users["spec"], key)                      # claim + approve
    return key


def _verify(ctx) -> audit.VerifyResult:
    with ctx.sessions() as s:
        return audit.verify(s, ctx.audit.key)


def test_intact_chain_verifies(ctx, users, full_case) -> None:
    _case_with_events(ctx, users, full_case)
    result = _verify(ctx)
    assert result.ok and result.checked == len(users) + 5


@pytest.mark.parametrize("tamper", ["change", "delete_middle", "delete_tail", "insert", "relink"])
def test_tampering_is_detected_at_the_first_broken_event(ctx, users, full_case, tamper) -> None:
    _case_with_events(ctx, users, full_case)
    with ctx.sessions() as s:
        events = s.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.seq)).all()
    target = events[len(events) // 2]
    with ctx.engine.begin() as conn:
        if tamper == "change":
            conn.execute(update(audit.AuditEvent).where(audit.AuditEvent.seq == target.seq).values(actor="mallory"))
        elif tamper == "delete_middle":
            conn.execute(delete(audit.AuditEvent).where(audit.AuditEvent.seq == target.seq))
        elif tamper == "delete_tail":
            conn.execute(delete(audit.AuditEvent).where(audit.AuditEvent.seq == events[-1].seq))
        elif tamper == "insert":
            conn.execute(update(audit.AuditEvent).where(audit.AuditEvent.seq > target.seq)
                         .values(seq=audit.AuditEvent.seq + 1000))
            conn.execute(audit.AuditEvent.__table__.insert().values(
                seq=target.seq + 1, at=target.at, actor="mallory", action="case.approve", subject_type="case",
                subject_id="CB-000001", policy_version="x", prev_hash=target.hash, hash="f" * 64))
        elif tamper == "relink":
            conn.execute(update(audit.AuditEvent).where(audit.AuditEvent.seq == target.seq)
                         .values(prev_hash="0" * 64))
    result = _verify(ctx)
    assert not result.ok
    expected = {"change": target.seq, "delete_middle": target.seq, "delete_tail": events[-1].seq,
                "insert": target.seq + 1, "relink": target.seq}[tamper]
    assert result.broken_seq == expected, result


def test_audit_verify_cli(cli, ctx, users, full_case) -> None:
    _case_with_events(ctx, users, full_case)
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET ip = '10.0.0.9' WHERE seq = 3"))
    code, _, err = cli("audit", "verify")
    assert code == 1 and "event 3" in err


EVENTS = S.events(3)
DECISIONS = {"approve": "approve", "return_for_revision": "return", "reject": "reject"}
ACTORS = ["alice", "spec", "spec2", "head", "com", "ops", "system"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(EVENTS), st.sampled_from(ACTORS), st.booleans()), max_size=25))
def test_random_event_sequences_stay_in_declared_states(ctx, policy, full_case, steps) -> None:
    _truncate(ctx)
    users = make_users(ctx, ("alice", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                       ("spec2", "case_specialist", "ops"), ("head", "department_head", "marketing"),
                       ("com", "committee_member", "committee"), ("ops", "operations", "ops"))
    users["system"] = Actor.system()
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    declared = set(S.states(policy.max_review_levels))
    for event, who, with_reason in steps:
        before = svc.view(users["system"], key).state
        try:
            if event in DECISIONS and who != "system":   # decisions go through the task queue
                after = decide(ctx, users[who], key, DECISIONS[event],
                               reasons=[{"section": "data", "text": "recheck"}] if with_reason else [],
                               **({"scores": PASSING} if event == "approve" else {}))
            else:
                after = svc.fire(users[who], key, event, reason="because" if with_reason else None)
        except (CasebookError, NoResultFound):   # refused, or no live task to decide
            after = svc.view(users["system"], key).state
            assert after == before                           # a refusal changes nothing
        assert after in declared
    assert _verify(ctx).ok

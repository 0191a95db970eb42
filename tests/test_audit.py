"""The audit chain verifies after any sequence of events and detects every out-of-band change."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import NoResultFound

from casebook.core import audit, checkpoint, integrity
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


def _findings(ctx, external=None) -> dict[str, integrity.Finding]:
    with ctx.engine.connect() as conn:
        return {f.part: f for f in integrity.check(conn, ctx.audit.key, external)}


def test_intact_chain_verifies_across_shards(ctx, users, full_case) -> None:
    _case_with_events(ctx, users, full_case)
    result = _verify(ctx)
    assert result.ok and result.checked == len(users) + 5
    with ctx.engine.connect() as conn:
        shards = conn.execute(select(audit.AuditEvent.shard).distinct()).scalars().all()
        heads = conn.execute(select(audit.AuditHead.shard)).scalars().all()
    assert len(shards) > 1 and sorted(shards) == sorted(heads) == [s for s in sorted(shards) if s < ctx.audit.shards]
    assert result.shards == len(shards)


def _busiest_shard(ctx) -> tuple[int, list]:
    with ctx.sessions() as s:
        events = s.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.shard, audit.AuditEvent.seq)).all()
    by_shard: dict[int, list] = {}
    for e in events:
        by_shard.setdefault(e.shard, []).append(e)
    shard = max(by_shard, key=lambda k: len(by_shard[k]))
    assert len(by_shard[shard]) >= 3
    return shard, by_shard[shard]


TAMPERS = ["change", "delete_middle", "delete_tail", "insert", "relink", "reorder", "swap_ids", "move_shard"]


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tampering_is_detected_at_the_first_broken_event_of_its_shard(ctx, users, full_case, tamper) -> None:
    _case_with_events(ctx, users, full_case)
    shard, events = _busiest_shard(ctx)
    target, after = events[len(events) // 2 - 1], events[len(events) // 2]
    E = audit.AuditEvent
    in_shard = (E.shard == shard)
    with ctx.engine.begin() as conn:
        if tamper == "change":
            conn.execute(update(E).where(in_shard, E.seq == target.seq).values(actor="mallory"))
        elif tamper == "delete_middle":
            conn.execute(delete(E).where(in_shard, E.seq == target.seq))
        elif tamper == "delete_tail":
            conn.execute(delete(E).where(in_shard, E.seq == events[-1].seq))
        elif tamper == "insert":
            conn.execute(update(E).where(in_shard, E.seq > target.seq).values(seq=E.seq + 1000))
            conn.execute(E.__table__.insert().values(
                shard=shard, seq=target.seq + 1, at=target.at, actor="mallory", action="case.approve",
                subject_type="case", subject_id="CB-000001", policy_version="x", prev_hash=target.hash, hash="f" * 64))
        elif tamper == "relink":
            conn.execute(update(E).where(in_shard, E.seq == target.seq).values(prev_hash="0" * 64))
        elif tamper == "reorder":      # two neighbours swap places in the chain
            conn.execute(update(E).where(E.id == target.id).values(seq=-1))
            conn.execute(update(E).where(E.id == after.id).values(seq=target.seq))
            conn.execute(update(E).where(E.id == target.id).values(seq=after.seq))
        elif tamper == "swap_ids":     # the same rows, listed in another order
            conn.execute(update(E).where(E.id == target.id).values(id=-1))
            conn.execute(update(E).where(E.id == after.id).values(id=target.id))
            conn.execute(update(E).where(E.id == -1).values(id=after.id))
        elif tamper == "move_shard":   # the whole shard relabelled as another (empty) one, heads included
            other = next(s for s in range(ctx.audit.shards) if s != shard and s != 0)
            conn.execute(delete(audit.AuditHead).where(audit.AuditHead.shard == other))
            conn.execute(delete(E).where(E.shard == other))
            conn.execute(update(E).where(in_shard).values(shard=other))
            conn.execute(update(audit.AuditHead).where(audit.AuditHead.shard == shard).values(shard=other))
    result = _verify(ctx)
    assert not result.ok
    expected = {"change": target.seq, "delete_middle": target.seq, "delete_tail": events[-1].seq,
                "insert": target.seq + 1, "relink": target.seq, "reorder": target.seq, "swap_ids": after.seq,
                "move_shard": 1}[tamper]
    assert result.broken_seq == expected, result
    if tamper != "move_shard":
        assert result.shard == shard


def test_a_tail_deleted_with_its_head_rolled_back_is_found_by_the_checkpoints(ctx, users, full_case) -> None:
    """The chain alone cannot see it; the stored checkpoint and the one kept outside the database can, and
    cutting the stored checkpoints back as well leaves the external one to find it."""
    _case_with_events(ctx, users, full_case)
    with ctx.engine.begin() as conn:
        doc = checkpoint.write(conn, ctx.audit.key, ctx.clock.now())
    assert all(f.ok for f in _findings(ctx, doc).values())
    shard, events = _busiest_shard(ctx)
    last, before_last = events[-1], events[-2]
    with ctx.engine.begin() as conn:
        conn.execute(delete(audit.AuditEvent).where(audit.AuditEvent.id == last.id))
        conn.execute(update(audit.AuditHead).where(audit.AuditHead.shard == shard)
                     .values(seq=before_last.seq, hash=before_last.hash))
    found = _findings(ctx, doc)
    assert found["audit log"].ok                                   # every shard is a consistent chain
    assert not found["checkpoints"].ok and f"shard {shard} has no row {last.seq}" in found["checkpoints"].problem
    assert not found["external checkpoint"].ok
    with ctx.engine.begin() as conn:                               # cut the stored checkpoints back too
        conn.execute(delete(checkpoint.AuditCheckpoint))
    found = _findings(ctx, doc)
    assert found["checkpoints"].ok and not found["external checkpoint"].ok
    assert "truncated behind the checkpoint" in found["external checkpoint"].problem


def test_a_checkpoint_file_edited_or_rewritten_behind_is_refused(ctx, users, full_case) -> None:
    _case_with_events(ctx, users, full_case)
    with ctx.engine.begin() as conn:
        doc = checkpoint.write(conn, ctx.audit.key, ctx.clock.now())
    shard, events = _busiest_shard(ctx)
    forged = json.loads(json.dumps(doc))
    forged["heads"]["audit"][str(shard)][0] -= 1                   # an attacker "shortens" the file
    assert "signature" in _findings(ctx, forged)["external checkpoint"].problem
    # Rewriting the chain from an event on, with the key, re-linking everything after it: consistent, but not
    # what the checkpoint recorded.
    target = events[1]
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(audit.AuditEvent.__table__).where(audit.AuditEvent.shard == shard,
                                                                     audit.AuditEvent.seq >= target.seq)
                            .order_by(audit.AuditEvent.seq)).mappings().all()
        prev = events[0].hash
        for row in rows:
            fields = dict(row) | {"prev_hash": prev}
            if row["seq"] == target.seq:
                fields["actor"] = "mallory"
            fields["hash"] = audit.compute_hash(ctx.audit.key, fields)
            conn.execute(update(audit.AuditEvent).where(audit.AuditEvent.id == row["id"])
                         .values(actor=fields["actor"], prev_hash=fields["prev_hash"], hash=fields["hash"]))
            prev = fields["hash"]
        conn.execute(update(audit.AuditHead).where(audit.AuditHead.shard == shard).values(hash=prev))
    found = _findings(ctx, doc)
    assert found["audit log"].ok
    assert "rewritten behind it" in found["external checkpoint"].problem


def test_shard_count_is_validated_and_may_change(ctx, users, full_case, monkeypatch) -> None:
    """A store written with one shard count verifies after another (each event keeps its shard)."""
    from pydantic import ValidationError

    from casebook.core.settings import Settings

    for bad in (0, 5000):
        with pytest.raises(ValidationError, match="audit_shards"):
            Settings(audit_shards=bad)
    key = _case_with_events(ctx, users, full_case)
    ctx.audit = audit.AuditContext(ctx.audit.key, ctx.audit.policy_version, shards=3)
    CaseService(ctx).fire(users["alice"], key, "withdraw", reason="no longer needed")
    assert _verify(ctx).ok


def test_audit_verify_cli(cli, ctx, users, full_case, tmp_path) -> None:
    _case_with_events(ctx, users, full_case)
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact" in out
    saved = tmp_path / "checkpoint.json"
    code, out, _ = cli("audit", "checkpoint", "--out", str(saved))
    assert code == 0 and json.loads(saved.read_text())["format"] == checkpoint.FORMAT
    code, out, _ = cli("audit", "verify", "--checkpoint", str(saved))
    assert code == 0, out
    with ctx.engine.begin() as conn:
        row = conn.execute(text("SELECT shard, seq FROM audit_events ORDER BY id LIMIT 1 OFFSET 2")).one()
        conn.execute(text("UPDATE audit_events SET ip = '10.0.0.9' WHERE shard = :s AND seq = :q"),
                     {"s": row.shard, "q": row.seq})
    code, _, err = cli("audit", "verify")
    assert code == 1 and f"shard {row.shard} row {row.seq}" in err


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


def _replay(ctx):
    from lifecycle.replay import replay

    with ctx.engine.connect() as conn:
        return replay(conn, ctx.policy)


@pytest.mark.parametrize("change", ["state", "title", "published_at", "expires_at", "version", "none"])
def test_case_rows_are_replayed_from_their_events(ctx, users, full_case, change) -> None:
    """A case row edited in the database no longer matches what its events say (state, version, dates, title);
    an untouched store replays clean, including edits and a publication."""
    from lifecycle.models import Case

    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.edit(users["alice"], key, {"title": full_case["title"] + " (2)"})
    for event in ("submit",):
        svc.fire(users["alice"], key, event)
    for reviewer in ("spec", "head", "com"):
        decide(ctx, users[reviewer], key)
    svc.fire(users["ops"], key, "publish")
    other = svc.create(users["alice"], full_case)
    before = _replay(ctx)
    assert before.ok and before.checked == 2, before.problems
    values = {"state": {"state": "archived"}, "title": {"title": "Quietly renamed"},
              "published_at": {"published_at": ctx.clock.now().replace(year=2025)},
              "expires_at": {"expires_at": ctx.clock.now().replace(year=2030)},
              "version": {"current_version_no": 1}, "none": {}}[change]
    if values:
        with ctx.engine.begin() as conn:
            conn.execute(update(Case).where(Case.key == key).values(**values))
    result = _replay(ctx)
    assert result.ok == (change == "none")
    if change != "none":
        assert len(result.problems) >= 1 and all(p.startswith(key) for p in result.problems), result.problems
        with ctx.engine.begin() as conn:                  # a case whose events were removed is found too
            conn.execute(delete(audit.AuditEvent).where(audit.AuditEvent.subject_id == other))
        assert any(p.startswith(f"{other}: no audit event") for p in _replay(ctx).problems)

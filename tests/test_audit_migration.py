"""Migration 0009_audit keeps a store's single audit chain verifiable: it becomes shard 0 and new events append."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import text

from casebook import store
from casebook.assembly import build_context
from casebook.core import audit
from casebook.core.chain import GENESIS, row_hash
from casebook.core.settings import Settings


def test_the_single_chain_becomes_shard_zero_and_still_verifies(tmp_path, monkeypatch, clock, policy) -> None:
    monkeypatch.setenv("CASEBOOK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CASEBOOK_DB_URL", f"sqlite:///{tmp_path / 'old.db'}")
    ctx = build_context(settings=Settings(), clock=clock, policy=policy)
    cfg = store.alembic_config(str(ctx.engine.url))
    with ctx.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.commit()
    prev, rows = GENESIS, []
    for seq in (1, 2, 3):                     # three events chained as the single-chain code chained them
        row = {"seq": seq, "at": datetime(2026, 11, seq, tzinfo=timezone.utc), "actor": "old", "action": "user.add",
               "subject_type": "user", "subject_id": f"u{seq}", "ip": None, "before": None, "after": None,
               "details": None, "policy_version": "p0", "prev_hash": prev}
        row["hash"] = prev = row_hash(ctx.audit.key, row, audit.HASHED_FIELDS)
        rows.append(row)
    with ctx.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, "
                          "policy_version, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :subject_type, "
                          ":subject_id, :policy_version, :prev_hash, :hash)"),
                     [r | {"at": r["at"].replace(tzinfo=None)} for r in rows])
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :h)"), {"h": prev})
    store.upgrade(ctx.engine)
    with ctx.engine.connect() as conn:
        assert audit.verify(conn, ctx.audit.key).ok
        assert conn.execute(text("SELECT shard, seq FROM audit_head")).all() == [(0, 3)]
        conn.commit()
        for i in range(40):                   # new events land on many shards, shard 0 continuing at 4
            audit.record(conn, ctx.audit, at=clock.now(), actor="new", action="user.add", subject_type="user",
                         subject_id=f"n{i}")
            conn.commit()
    with ctx.engine.connect() as conn:
        result = audit.verify(conn, ctx.audit.key)
        ids = conn.execute(text("SELECT id FROM audit_events WHERE actor = 'old' ORDER BY id")).scalars().all()
    assert result.ok and result.checked == 43 and result.shards > 1 and ids == [1, 2, 3]
    ctx.close()

"""Views and downloads are kept in the access log (time, IP, user, case, version), written in batches on its own
hash chain, never through the audit chain; ``verify`` checks it like the audit log."""

from __future__ import annotations

from sqlalchemy import func, select, update

from casebook.core import access_log, audit, integrity
from casebook.core.access_log import AccessEntry, AccessLog
from tests.web_helpers import client, page_client, people, published_case


def _heads(ctx) -> dict:
    with ctx.engine.connect() as conn:
        return audit.CHAIN.heads_now(conn)


def test_page_and_api_views_are_logged_without_touching_the_audit_chain(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    ctx.access_log = AccessLog(ctx.engine, ctx.audit.key, shards=4, batch=10, interval=600)  # no timed write here
    api, page = client(ctx, "intern"), page_client(ctx, "intern")
    heads = _heads(ctx)
    assert api.get(f"/api/v1/cases/{key}").status_code == 200
    assert page.get(f"/cases/{key}").status_code == 200
    assert api.get(f"/api/v1/cases/{key}", params={"version": 1}).status_code == 200
    assert _heads(ctx) == heads                                      # no audit head moved for a read
    assert ctx.access_log.pending() == 3
    assert ctx.access_log.flush() == 3 and ctx.access_log.pending() == 0
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(AccessEntry.actor, AccessEntry.action, AccessEntry.case_key, AccessEntry.version,
                                   AccessEntry.ip, AccessEntry.via, AccessEntry.at).order_by(AccessEntry.id)).all()
        views_in_audit = conn.execute(select(func.count()).select_from(audit.AuditEvent)
                                      .where(audit.AuditEvent.action == "case.view")).scalar_one()
    assert [(r.actor, r.action, r.case_key, r.version, r.via) for r in rows] == [
        ("intern", "view", key, 1, "api"), ("intern", "view", key, 1, "page"), ("intern", "view", key, 1, "api")]
    assert all(r.ip and r.at == ctx.clock.now() for r in rows) and views_in_audit == 0
    with ctx.engine.connect() as conn:
        found = {f.part: f for f in integrity.check(conn, ctx.audit.key)}
    assert found["access log"].ok and found["access log"].checked == 3
    ctx.access_log.close()


def test_entries_are_written_in_batches_chained_per_shard_and_tampering_is_found(ctx) -> None:
    log = AccessLog(ctx.engine, ctx.audit.key, shards=4, batch=5, interval=60)
    try:
        for i in range(12):
            log.add(at=ctx.clock.now(), actor=f"u{i}", action="view", case_key=f"CB-{i:06d}", version=1,
                    ip="10.0.0.1", via="cli")
            # a full batch is written at once by the reader that filled it
            assert log.pending() == [1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2][i]
    finally:
        log.close()                                                  # closing writes the rest
    assert log.pending() == 0
    with ctx.engine.connect() as conn:
        shards = conn.execute(select(AccessEntry.shard, func.count()).group_by(AccessEntry.shard)).all()
        check = access_log.CHAIN.verify(conn, ctx.audit.key)
    assert sorted(n for _, n in shards) == [2, 5, 5] and check.ok and check.checked == 12
    with ctx.engine.begin() as conn:
        conn.execute(update(AccessEntry).where(AccessEntry.actor == "u3").values(ip="192.0.2.1"))
    with ctx.engine.connect() as conn:
        check = access_log.CHAIN.verify(conn, ctx.audit.key)
    assert not check.ok and check.reason.startswith("content changed")


def test_unknown_access_action_is_refused(ctx) -> None:
    import pytest

    with pytest.raises(ValueError, match="access action"):
        ctx.access_log.add(at=ctx.clock.now(), actor="a", action="edit", case_key="CB-1", version=1, ip=None,
                           via="api")

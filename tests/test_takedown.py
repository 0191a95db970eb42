"""Takedown notices (issue 19 item 1): a withdrawal tells whoever viewed, rated, downloaded or followed the case
within the policy's window, through the outbox in the withdrawal's transaction, each reader in their locale and
at their tier, delivered to a real SMTP server; role chat groups post it through apprise to a real HTTP hook."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from casebook.core.errors import Forbidden, IllegalTransition
from lifecycle.hooks import TransitionEvent
from lifecycle.service import CaseService
from library.export import export_markdown
from library.feedback import rate
from notifications import takedown
from notifications.delivery import deliver
from notifications.follows import follow, followed, is_following, unfollow
from notifications.models import OutboxMessage
from redaction.stored import stored_title
from redaction.tiers import audience_for
from redaction.views import read_case
from tests.delivery_fixtures import hook, sink  # noqa: F401 - fixtures
from tests.conftest import decide, make_users

OUTBOX = OutboxMessage.__table__
TITLE = "預算五十萬元的社區快閃店"
BODY_MARK = "雨天客流下滑明顯"          # a sentence of the case body (never in a notice)
REASON = "合作方撤回授權"               # the withdrawal's reason (never in a notice)


@pytest.fixture
def people(ctx):
    out = make_users(ctx, ("alice", "staff", "marketing"), ("bob", "staff", "marketing"),
                     ("carol", "staff", "sales"), ("spec", "case_specialist", "ops"),
                     ("head", "department_head", "marketing"), ("com", "committee_member", "committee"),
                     ("ops", "operations", "ops"), ("intern", "intern", "marketing"), ("exec", "executive", "board"),
                     ("old", "staff", "marketing"), ("quiet", "staff", "marketing"))
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = username || '@example.test'"))
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username IN ('bob', 'exec')"))
        conn.execute(text("UPDATE users SET locale = 'zh-Hans' WHERE username = 'head'"))
        conn.execute(text("UPDATE users SET locale = 'zh-Hant' WHERE username = 'alice'"))
    return out


def _published(ctx, people, full_case, classification: str = "internal") -> str:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], full_case | {"title": TITLE, "classification": classification,
                                                   "library": "industry_benchmark"})
    svc.fire(people["alice"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, people[reviewer], key)
    svc.fire(people["ops"], key, "publish")
    assert svc.view(people["com"], key).state == "published"
    return key


def _texts(sink) -> dict[str, tuple[str, str, str]]:
    """To -> (subject, text part, html part) of every takedown notice the server received."""
    out = {}
    for m in sink.messages:
        if not m["X-Casebook-Key"].startswith("case_withdrawn|"):
            continue
        parts = {p.get_content_type(): p.get_content() for p in m.walk() if not p.is_multipart()}
        out[m["To"].split("@")[0]] = (str(m["Subject"]), parts["text/plain"], parts["text/html"])
    return out


def _withdrawn_rows(ctx) -> list:
    with ctx.engine.connect() as conn:
        return conn.execute(select(OUTBOX).where(OUTBOX.c.kind == "case_withdrawn").order_by(OUTBOX.c.recipient)).all()


def test_takedown_notifies_each_reader_in_locale_and_tier_and_nobody_else(ctx, people, full_case, sink) -> None:
    key = _published(ctx, people, full_case)
    now = ctx.clock.now()
    window = ctx.policy.doc.notifications.takedown_window_days
    read_case(ctx, people["bob"], key, via="page")                   # a view (still queued in this process)
    read_case(ctx, people["spec"], key, via="api")                   # another department's reader
    rate(ctx, people["head"], key, 4)                                # a rating
    export_markdown(ctx, people["exec"], key)                        # a download
    with pytest.raises(Forbidden):                                   # carol (sales) may not read it
        follow(ctx, people["carol"], key)
    follow(ctx, people["com"], key)                                  # a follower
    ctx.access_log.add(at=now - timedelta(days=window + 1), actor="old", action="view", case_key=key, version=1,
                       ip=None, via="page")                          # read before the window: not told
    ctx.access_log.add(at=now, actor="intern", action="view", case_key=key, version=1, ip=None,
                       via="api")                                    # logged, but may not read the title
    ctx.access_log.add(at=now, actor="alice", action="view", case_key=key, version=1, ip=None, via="page")
    ctx.access_log.flush()
    read_case(ctx, people["bob"], key, via="page")                   # bob twice: one notice
    ctx.clock.current += timedelta(hours=1)

    CaseService(ctx).fire(people["ops"], key, "withdraw", reason=REASON)
    rows = _withdrawn_rows(ctx)
    assert [r.recipient for r in rows] == ["alice", "bob", "com", "exec", "head", "intern", "spec"]
    assert all(r.key == f"case_withdrawn|{key}|{r.recipient}|withdrawn" for r in rows)

    report = deliver(ctx)
    assert report.sent >= 7 and report.dead == 0
    got = _texts(sink)
    assert set(got) == {"alice", "bob", "com", "exec", "head", "intern", "spec"} and sink.duplicates() == 0
    assert got["bob"][0] == f"Case taken down: {key}" and got["exec"][0].startswith("Case taken down")
    assert got["head"][0] == f"案例已下架:{key}" and "已于" in got["head"][1]          # zh-Hans
    assert got["alice"][0] == f"案例已下架:{key}" and "已於" in got["alice"][1]        # zh-Hant
    with ctx.engine.connect() as conn:
        case = conn.execute(text("SELECT * FROM cases WHERE key = :k"), {"k": key}).one()
        for name in ("alice", "bob", "com", "exec", "head", "spec"):
            actor = people[name]
            audience = audience_for(ctx.policy, actor, classification=case.classification,
                                    department=case.department, is_author=actor.user_id in (case.author_id,
                                                                                            case.owner_id))
            shown = stored_title(conn, ctx.policy, case.id, case.published_version_no, case.title, audience)
            assert shown in got[name][1] and shown in got[name][2], name
    assert "五十萬元" in got["exec"][1]                        # the executive's tier shows the figure
    assert "五十萬元" in got["bob"][1]                         # so does a colleague's in the department
    assert "五十萬元" not in got["spec"][1]                    # another department's: a range
    assert TITLE not in got["intern"][1] and "五十萬" not in got["intern"][1] and key in got["intern"][1]
    for subject, body, html in got.values():
        assert BODY_MARK not in body + html and REASON not in body + html and "old" not in subject


def test_notices_are_written_in_the_withdrawals_transaction_and_only_once(ctx, people, full_case) -> None:
    key = _published(ctx, people, full_case)
    rate(ctx, people["bob"], key, 2)
    svc = CaseService(ctx)
    with pytest.raises(RuntimeError):
        with ctx.engine.begin() as conn:
            svc.fire(people["ops"], key, "withdraw", reason=REASON, conn=conn)
            assert len(conn.execute(select(OUTBOX).where(OUTBOX.c.kind == "case_withdrawn")).all()) == 1
            raise RuntimeError("the caller's transaction fails after the withdrawal")
    assert _withdrawn_rows(ctx) == [] and svc.view(people["com"], key).state == "published"

    svc.fire(people["ops"], key, "withdraw", reason=REASON)
    assert [r.recipient for r in _withdrawn_rows(ctx)] == ["bob"]
    with pytest.raises(IllegalTransition):
        svc.fire(people["ops"], key, "withdraw", reason=REASON)
    with ctx.engine.begin() as conn:   # the listener run again for the same withdrawal adds nothing
        row = conn.execute(text("SELECT * FROM cases WHERE key = :k"), {"k": key}).one()
        takedown.on_transition(TransitionEvent(conn, svc, row, "withdraw", "published", "withdrawn",
                                               people["ops"], ctx.clock.now(), REASON, {}, {}))
    assert [r.recipient for r in _withdrawn_rows(ctx)] == ["bob"]


def test_follow_and_unfollow_through_domain_cli_and_api(ctx, people, full_case, cli) -> None:
    key = _published(ctx, people, full_case, classification="public")
    assert follow(ctx, people["intern"], key) is True
    assert follow(ctx, people["intern"], key) is False            # twice changes nothing
    assert is_following(ctx, people["intern"], key) and followed(ctx, people["intern"]) == [key]
    code, out, _ = cli("follow", key, "--as", "bob")
    assert code == 0 and f"following {key}" in out
    code, out, _ = cli("following", "--as", "bob", "--json")
    assert code == 0 and json.loads(out) == [key]
    code, _, err = cli("follow", "CB-999999", "--as", "bob")
    assert code != 0 and "CB-999999" in err and "Traceback" not in err
    code, out, _ = cli("unfollow", key, "--as", "bob")
    assert code == 0 and "no longer following" in out and followed(ctx, people["bob"]) == []
    assert unfollow(ctx, people["intern"], key) is True and not is_following(ctx, people["intern"], key)

    from tests.web_helpers import client
    from access.accounts import set_password
    from casebook.core.users import Actor

    set_password(ctx, Actor.system("test"), "exec", "correct horse battery")
    c = client(ctx, "exec")
    assert c.put(f"/api/v1/cases/{key}/follow").json() == {"following": True, "new": True}
    assert is_following(ctx, people["exec"], key)
    assert c.delete(f"/api/v1/cases/{key}/follow").json() == {"following": False, "was_following": True}
    assert c.put("/api/v1/cases/CB-999999/follow").status_code == 404


def test_role_chat_groups_post_the_takedown_at_the_roles_tier(ctx, people, full_case, sink, hook) -> None:
    port, posts = hook
    groups = {"operations": f"json://127.0.0.1:{port}/ops", "committee_member": f"json://127.0.0.1:{port}/com",
              "staff": f"json://127.0.0.1:{port}/staff"}     # staff: configured but not named for takedowns
    ctx.settings = ctx.settings.model_copy(update={"chat_groups": groups})
    key = _published(ctx, people, full_case)
    CaseService(ctx).fire(people["exec"], key, "withdraw", reason=REASON)
    with ctx.engine.connect() as conn:
        recipients = sorted(conn.execute(select(OUTBOX.c.recipient).where(OUTBOX.c.kind == "case_withdrawn"))
                            .scalars())
    assert recipients == ["group:committee_member", "group:operations"]
    deliver(ctx)
    assert deliver(ctx).sent == 0                                          # nothing twice
    by_path = {p["path"]: p["json"] for p in posts}
    assert set(by_path) == {"/ops", "/com"}
    assert by_path["/com"]["title"] == f"案例已下架:{key}"                  # the announcement locale
    assert "五十萬元" in by_path["/com"]["message"]                          # committee clearance: exact
    assert "五十萬元" not in by_path["/ops"]["message"] and REASON not in json.dumps(by_path, ensure_ascii=False)
    with ctx.engine.connect() as conn:
        statuses = set(conn.execute(select(OUTBOX.c.status).where(OUTBOX.c.recipient.like("group:%"))).scalars())
    assert statuses == {"sent"}


def test_a_group_no_longer_configured_is_dead_lettered_with_a_clear_error(ctx, people, full_case, sink) -> None:
    ctx.settings = ctx.settings.model_copy(update={"chat_groups": {"operations": "json://127.0.0.1:9/x"}})
    key = _published(ctx, people, full_case)
    CaseService(ctx).fire(people["exec"], key, "withdraw", reason=REASON)
    ctx.settings = ctx.settings.model_copy(update={"chat_groups": {}})
    deliver(ctx)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(OUTBOX).where(OUTBOX.c.recipient == "group:operations")).one()
    assert row.status == "dead" and "CASEBOOK_CHAT_GROUPS" in row.last_error

"""Digests that reach the right people (issue 19 item 8): the weekly scenario pack goes to the roles policy
names, each case under its current scenario, within each reader's scenarios of interest; every role holding
review tasks under any chain gets the daily digest; role chat groups post a published batch."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import yaml
from sqlalchemy import select, text

from casebook.assembly import build_context
from casebook.core.settings import Settings
from flows.registry import run_job
from lifecycle.service import CaseService
from notifications.delivery import deliver
from notifications.digests import daily_digests, digest_roles, weekly_scenario_pack
from notifications.models import OutboxMessage
from notifications.preferences import preferences, set_scenarios
from policies import DEFAULT_POLICY_PATH
from policies.loader import parse_policy
from tests.conftest import TZ, decide, make_users
from tests.delivery_fixtures import hook, sink  # noqa: F401 - fixtures

OUTBOX = OutboxMessage.__table__
MONDAY = datetime(2026, 10, 26, 8, 0, tzinfo=TZ)


def _people(ctx):
    out = make_users(ctx, ("alice", "staff", "marketing"), ("bob", "staff", "marketing"),
                     ("carol", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                     ("head", "department_head", "marketing"), ("com", "committee_member", "committee"),
                     ("ops", "operations", "ops"), ("exec", "executive", "board"))
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET email = username || '@example.test', locale = 'zh-Hant'"))
        conn.execute(text("UPDATE users SET locale = 'en' WHERE username = 'carol'"))
    return out


def _publish(ctx, people, doc, *, edit: dict | None = None) -> str:
    svc = CaseService(ctx)
    key = svc.create(people["alice"], doc)
    if edit:
        svc.edit(people["alice"], key, edit)
    svc.fire(people["alice"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, people[reviewer], key)
    svc.fire(people["ops"], key, "publish")
    if svc.view(people["ops"], key).state == "scheduled":
        svc.fire(people["ops"], key, "release")
    return key


def _packs(ctx) -> dict[str, dict]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX).where(OUTBOX.c.kind == "scenario_pack")).all()
    return {r.recipient: {g["name"]: [c["key"] for c in g["cases"]] for g in r.payload["scenarios"]} for r in rows}


def test_weekly_pack_by_role_current_scenario_and_interests(ctx, full_case, sink, cli) -> None:
    people = _people(ctx)
    doc = full_case | {"classification": "public", "library": "industry_benchmark"}
    moved = _publish(ctx, people, doc | {"scenario": "new_product_launch", "title": "快閃店改為活動"},
                     edit={"scenario": "event_marketing"})    # its first version said another scenario
    promo = _publish(ctx, people, doc | {"scenario": "promotion", "title": "雙十一促銷復盤"})
    set_scenarios(ctx, people["bob"], ["event_marketing"])
    code, out, _ = cli("interests", "--set", "crisis_response,promotion", "--as", "head")
    assert code == 0 and "crisis_response, promotion" in out
    code, _, err = cli("interests", "--set", "knitting", "--as", "head")
    assert code == 2 and "scenarios" in err and "knitting" in err
    assert preferences(ctx, people["head"])["scenarios"] == ["crisis_response", "promotion"]

    ctx.clock.current = MONDAY - timedelta(days=1)                          # a Sunday: nothing
    assert weekly_scenario_pack(ctx) == 0
    ctx.clock.current = MONDAY
    assert weekly_scenario_pack(ctx) == 5
    assert weekly_scenario_pack(ctx) == 0                                   # a rerun writes nothing
    packs = _packs(ctx)
    roles = set(ctx.policy.doc.notifications.scenario_pack_roles)
    assert set(packs) == {"alice", "bob", "carol", "spec", "head"} and {"staff", "case_specialist"} <= roles
    assert packs["carol"] == {"event_marketing": [moved], "promotion": [promo]}   # current scenario only
    assert packs["bob"] == {"event_marketing": [moved]}                      # within his interests
    assert packs["head"] == {"promotion": [promo]}

    deliver(ctx)
    mails = {m["To"].split("@")[0]: m for m in sink.messages if m["X-Casebook-Key"].startswith("scenario_pack|")}
    bob = mails["bob"].get_body(("plain",)).get_content()
    assert "活動營銷" in bob and moved in bob and promo not in bob
    carol = mails["carol"].get_body(("plain",)).get_content()
    assert "Event marketing" in carol and "Promotion" in carol and "new_product_launch" not in carol
    assert sink.duplicates() == 0


def _policy_with(mutate):
    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    return parse_policy(yaml.safe_dump(raw, allow_unicode=True))


def test_every_chain_reviewer_role_gets_the_daily_digest_with_default_settings(ctx, full_case, clock) -> None:
    assert {"business_line_lead", "industry_expert", "operations"} <= digest_roles(ctx.policy)
    assert not {"business_line_lead", "industry_expert"} <= set(ctx.policy.doc.notifications.reviewer_digest_roles)

    def alternative(raw):
        raw["libraries"]["industry_benchmark"]["review_chain"] = "alternative"

    alt = build_context(settings=Settings(), clock=clock, policy=_policy_with(alternative))
    try:
        users = make_users(alt, ("alice", "staff", "marketing"), ("lead", "business_line_lead", "marketing"),
                           ("ops", "operations", "ops"), ("expert", "industry_expert", "research"))
        svc = CaseService(alt)
        key = svc.create(users["alice"], full_case | {"library": "industry_benchmark"})
        svc.fire(users["alice"], key, "submit")
        daily_digests(alt)
        decide(alt, users["lead"], key)
        decide(alt, users["ops"], key)
        clock.advance(timedelta(days=1))
        daily_digests(alt)
        with alt.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX.c.recipient, OUTBOX.c.period, OUTBOX.c.payload)
                                .where(OUTBOX.c.kind == "reviewer_digest")).all()
        got = {(r.recipient, r.period): r.payload for r in rows}
        day1, day2 = "2026-10-20", "2026-10-21"
        assert key in json.dumps(got[("lead", day1)]) and key in json.dumps(got[("expert", day2)])
        assert ("alice", day1) not in got and ("expert", day1) not in got
        assert daily_digests(alt) == 0                                      # idempotent per day
    finally:
        alt.close()


def test_a_published_batch_is_announced_to_the_role_groups_policy_names(ctx, full_case, sink, hook) -> None:
    port, posts = hook
    people = _people(ctx)
    ctx.settings = ctx.settings.model_copy(update={"chat_groups": {
        "staff": f"json://127.0.0.1:{port}/staff", "operations": f"json://127.0.0.1:{port}/ops",
        "executive": f"json://127.0.0.1:{port}/exec"}})               # executive: configured, not named
    svc = CaseService(ctx)
    keys = []
    for title, classification in (("公開的批次案例", "public"), ("預算五十萬元的內部案例", "internal")):
        key = svc.create(people["alice"], full_case | {"title": title, "classification": classification,
                                                       "library": "enterprise_practice"})
        svc.fire(people["alice"], key, "submit")
        for reviewer in ("spec", "head", "com"):
            decide(ctx, people[reviewer], key)
        keys.append(key)
    run_job(ctx, "publish_approved", deliver_after=False)
    assert {svc.view(people["ops"], k).state for k in keys} == {"scheduled"}
    counts = run_job(ctx, "monthly_publish")
    assert counts["published"] == 2
    assert run_job(ctx, "monthly_publish")["published"] == 0
    by_path = {p["path"]: p["json"] for p in posts}
    assert set(by_path) == {"/staff", "/ops"} and len(posts) == 2
    staff, ops = by_path["/staff"]["message"], by_path["/ops"]["message"]
    assert "公開的批次案例" in staff and keys[1] in staff and "內部案例" not in staff   # staff group: no department
    assert "公開的批次案例" in ops and "內部案例" in ops and "五十萬元" not in ops      # ops tier: a range
    assert by_path["/ops"]["title"].startswith(f"{ctx.clock.now().astimezone(TZ):%Y-%m} 月度批次已發佈")

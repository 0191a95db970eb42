"""Every output path that exists shows a case through the one rendering path; sign-off overrides are honoured."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text as sql

from casebook.core.errors import Forbidden, InvalidInput
from lifecycle.service import CaseService
from redaction.tiers import Audience
from redaction.views import render_view, rendered_view
from review import queue
from review.signoff import override, sheet
from tests.conftest import decide, open_task

SECRET = "本次活動預算五十萬元,回購率提升百分之十二,由市場部經理張偉統籌,熱線13812345678。"


def _publish(ctx, users, key: str) -> None:
    svc = CaseService(ctx)
    svc.fire(users["ops"], key, "publish")
    if svc.view(users["ops"], key).state == "scheduled":
        svc.fire(users["ops"], key, "release")
    assert svc.view(users["ops"], key).state == "published"


def _reviewed(ctx, users, full_case, data: str = SECRET) -> str:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case | {"body": full_case["body"] | {"data": data}})
    svc.fire(users["alice"], key, "submit")
    for reviewer in ("spec", "head", "com"):
        decide(ctx, users[reviewer], key)
    _publish(ctx, users, key)
    return key


def test_case_show_renders_at_each_viewers_tier(ctx, users, full_case, cli) -> None:
    key = _reviewed(ctx, users, full_case)
    shown = {}
    for who in ("head", "spec", "exec", "alice"):
        code, out, err = cli("case", "show", key, "--as", who, "--json")
        assert code == 0, err
        shown[who] = json.loads(out)
    body = {who: doc["document"]["body"]["data"] for who, doc in shown.items()}
    assert "五十萬元" in body["head"] and "百分之十二" in body["head"]          # internal case, own department
    assert "五十萬元" not in body["spec"] and "30-70萬元" in body["spec"]        # another department: ranges
    assert "10%-20%" in body["spec"] and "百分之十二" not in body["spec"]
    assert shown["spec"]["document"]["budget"] == {"amount": None, "currency": "CNY",
                                                   "display": "300,000-700,000 CNY"}
    assert float(shown["head"]["document"]["budget"]["amount"]) == 480000
    assert body["exec"] == SECRET and body["alice"] == SECRET                  # executive; the author
    assert "138****5678" in body["head"] and "13812345678" not in body["spec"]
    code, out, _ = cli("case", "show", key, "--as", "spec")
    assert code == 0 and "30-70萬元" in out and "五十萬元" not in out and "300,000-700,000 CNY" in out


def test_public_cases_reach_interns_with_ranges_only(ctx, users, full_case, cli) -> None:
    key = _reviewed(ctx, users, full_case | {"classification": "public"})
    code, out, err = cli("case", "show", key, "--as", "intern", "--json")
    assert code == 0, err
    doc = json.loads(out)["document"]
    assert "30-70萬元" in doc["body"]["data"] and "張某" in doc["body"]["data"]
    for exact in ("五十萬元", "百分之十二", "張偉", "5678"):
        assert exact not in json.dumps(doc, ensure_ascii=False)


def test_interns_cannot_open_internal_cases(ctx, users, full_case, cli) -> None:
    key = _reviewed(ctx, users, full_case)
    code, out, err = cli("case", "show", key, "--as", "intern")
    assert code == 6 and "may not view" in err and "五十" not in out


def test_level_three_signoff_overrides_are_honoured_recorded_and_rescanned(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    text = "本次活動得到小青大力協助,預算五十萬元。"                             # a nickname, no surname: a miss
    key = svc.create(users["alice"], full_case | {"classification": "public",
                                                  "body": full_case["body"] | {"data": text}})
    svc.fire(users["alice"], key, "submit")
    decide(ctx, users["spec"], key)
    decide(ctx, users["head"], key)
    with pytest.raises(Forbidden, match="claimed review task at a sign-off level"):
        sheet(ctx, users["com"], key)                                          # must hold the level-3 task
    queue.claim(ctx, users["com"], open_task(ctx, key)[0])
    before = sheet(ctx, users["com"], key)
    assert {"public", "internal", "confidential"} <= set(before["renderings"])
    assert "小青" in before["renderings"]["public"]["body"]["data"]
    start, budget = text.index("小青"), text.index("五十萬元")
    override(ctx, users["com"], key, action="add", field="body.data", start=start, end=start + 2, entity_type="PERSON")
    with pytest.raises(InvalidInput, match="override"):
        override(ctx, users["com"], key, action="remove", field="body.data", start=0, end=2)    # nothing there
    with pytest.raises(InvalidInput):
        override(ctx, users["com"], key, action="add", field="body.nothing", start=0, end=2, entity_type="PERSON")
    override(ctx, users["com"], key, action="remove", field="body.data", start=budget, end=budget + 4)
    after = sheet(ctx, users["com"], key)
    public = after["renderings"]["public"]["body"]["data"]
    assert "小某" in public and "小青" not in public and "五十萬元" in public
    decide(ctx, users["com"], key)
    with ctx.engine.connect() as conn:
        signoff = conn.execute(sql("SELECT redaction_signoff FROM review_decisions WHERE level = 3")).scalar_one()
        events = conn.execute(sql("SELECT action FROM audit_events WHERE action LIKE 'redaction.%'")).scalars().all()
    signoff = json.loads(signoff) if isinstance(signoff, str) else signoff
    # findings: the added nickname and the interviewee 店長王某 (every text field is scanned since issue 18)
    assert signoff == {"version": 1, "findings": 2, "overrides": 2, "policy_version": ctx.policy.version_tag}
    assert sorted(events) == ["redaction.add", "redaction.remove"]
    _publish(ctx, users, key)
    seen = rendered_view(ctx, users["intern"], key)[0].document["body"]["data"]
    assert "小某" in seen and "五十萬元" in seen
    # A new version is re-scanned: the addition carries forward, the removal (a per-version judgement) does not.
    svc.fire(users["alice"], key, "start_update")
    svc.edit(users["alice"], key, {"body": full_case["body"] | {"data": "更新:" + text}})
    # v2 is in preparation: readers still get v1, so look at v2 as the public tier would see it once published.
    with pytest.raises(Forbidden, match="only the published version"):
        rendered_view(ctx, users["intern"], key, version=2)                    # in progress: not for readers
    working = CaseService(ctx).view(users["alice"], key, version=2)
    v2 = render_view(ctx, working, Audience("public", working.facts["classification"])).document["body"]["data"]
    assert "小某" in v2 and "小青" not in v2 and "30-70萬元" in v2 and "五十萬元" not in v2

"""Renderings from a finding's stored parse (its ``shape``, worked out once at detection) are the renderings of its
text: with the parse, without it (findings stored before parses were), after the stored JSON round trip, with a
parse of another format, and under a policy whose bands differ from the one the parse was stored under."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from policies import DEFAULT_POLICY_PATH
from policies.loader import parse_policy
from redaction.api import detect_text
from redaction.render import render_findings
from redaction.stored import _decode, _encode, tiers_for

TEXTS = [
    "季度推廣預算約四十五萬元，實際花費38.6萬元，轉化率提升百分之十二點五，ROI 1:4.2，聯絡人電話0755-26881234轉16。",
    "项目总投入壹佰捌拾萬元左右，同比 -8%，新客占比兩成半，热线 +86 139 0011 2233，客单价 260 元。",
    "The pilot cost USD 86,500 against a plan of $120K; click-through rose 3.4% and the hotline is 415-555-0134.",
]


def _every_rendering(policy, text, findings) -> list[str]:
    return [render_findings(policy, text, findings, audience)
            for classification in policy.doc.classifications
            for audience in tiers_for(policy, classification).values()]


def _policy_with_other_bands():
    text = Path(DEFAULT_POLICY_PATH).read_text(encoding="utf-8")
    assert "money_bucket_mantissas: [1, 3, 7]" in text
    return parse_policy(text.replace("money_bucket_mantissas: [1, 3, 7]", "money_bucket_mantissas: [1, 2, 5]"))


def test_a_stored_parse_renders_as_its_text_does(policy) -> None:
    other = _policy_with_other_bands()
    for text in TEXTS:
        found = detect_text(policy, text)
        assert any(f.shape is not None for f in found), text
        plain = [replace(f, shape=None) for f in found]
        foreign = [replace(f, shape=["x9", 1]) if f.shape is not None else f for f in found]
        document = {"title": text}
        stored = _decode(document, json.loads(json.dumps(_encode({"title": found}))))["title"]
        assert [f.shape for f in stored] == [json.loads(json.dumps(f.shape)) for f in found]
        expected = _every_rendering(policy, text, plain)
        for variant in (found, stored, foreign):
            assert _every_rendering(policy, text, variant) == expected, text
        # the parse holds no band: a policy with other money edges renders it as it renders the text
        assert _every_rendering(other, text, stored) == _every_rendering(other, text, plain)
        assert _every_rendering(other, text, plain) != expected, "the other policy's bands show somewhere"

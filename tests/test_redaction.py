"""Redaction: detection quality on our own labelled set, operators, the tier table, and the CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casebook.core.errors import InvalidInput
from policies.loader import parse_policy
from policies.schema import ENTITY_NAMES
from redaction import evaluation
from redaction.analyzer import detect
from redaction.operators import band_percentage, generalise_money, mask_digits, mask_email, money_edges
from redaction.render import render_document, render_text
from redaction.tiers import Audience

FIXTURES = Path(__file__).parent / "fixtures"
EVAL = evaluation.load(FIXTURES / "redaction_eval.txt") + evaluation.load(FIXTURES / "redaction_eval_forms.txt")


def test_the_evaluation_set_is_large_and_mixed() -> None:
    spans = [s for sample in EVAL for s in sample.spans]
    assert len(spans) >= 600
    assert {sample.script for sample in EVAL} >= {"zh-Hant", "zh-Hans", "en"}
    assert sum(1 for sample in EVAL if not sample.spans) >= 30           # negatives: dates, counts, durations
    assert {t for *_, t in spans} == set(ENTITY_NAMES)


def test_recall_and_precision_per_type(policy) -> None:
    from redaction.api import detect_text

    scores = evaluation.evaluate(EVAL, lambda text: detect_text(policy, text))
    for entity in ENTITY_NAMES:
        score = scores[entity]
        assert score.recall >= 0.95, (entity, score.recall, score.misses[:5])
        assert score.precision >= 0.90, (entity, score.precision, score.false_alarms[:5])


@pytest.mark.parametrize(("text", "entity", "span"), [
    ("活動預算三百萬元,已全部到位", "MONEY", "三百萬元"),
    ("GMV達到2.3億", "MONEY", "2.3億"),
    ("报价区间为10-15万", "MONEY", "10-15万"),
    ("The launch cost US$1.2 million in total", "MONEY", "US$1.2 million"),
    ("轉化率提升了3個百分點", "PERCENTAGE", "3個百分點"),
    ("请联系项目负责人陈思远", "PERSON", "陈思远"),
    ("手機 +86 138-1234-5678 隨時可聯繫", "PHONE_NUMBER", "+86 138-1234-5678"),
])
def test_typical_spans_in_both_scripts(text: str, entity: str, span: str) -> None:
    found = [(f.entity_type, f.text) for f in detect(text)]
    assert (entity, span) in found, found


@pytest.mark.parametrize("text", ["全年曝光2.3億次", "新增評論12萬條", "共發放優惠券3.2萬張", "活動於2026年9月1日開始,持續14天",
                                  "華為與星巴克的聯名店", "App version 3.2 shipped on 2026-05-04"])
def test_counts_dates_and_brands_are_not_sensitive(text: str) -> None:
    assert detect(text) == []


def test_traditional_and_simplified_find_the_same_spans() -> None:
    trad = "市場部經理張偉表示,活動預算五十萬元,回購率提升百分之十二。"
    simp = "市场部经理张伟表示,活动预算五十万元,回购率提升百分之十二。"
    assert [(f.entity_type, f.start, f.end) for f in detect(trad)] == \
        [(f.entity_type, f.start, f.end) for f in detect(simp)]
    assert detect(trad)[0].text == "張偉"                                   # offsets and text of the original script


# -- operators ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("span", "shown"), [
    ("50萬元", "30-70萬元"), ("50万元", "30-70万元"), ("30萬元", "30-70萬元"), ("5,000至8,000元", "3,000-10,000元"),
    ("10-15萬", "10-30萬"), ("1.2億", "1-3億"), ("四百五十萬", "300-700萬"), ("US$1.2 million", "US$1-3 million"),
    ("¥300,000", "¥300,000-700,000"),
])
def test_money_becomes_a_range_on_fixed_edges_in_the_same_unit_and_script(span: str, shown: str) -> None:
    assert generalise_money(span, [1, 3, 7]) == shown


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1, max_value=1e11, allow_nan=False), st.floats(min_value=1, max_value=1e11))
def test_money_ranges_depend_only_on_the_bucket(a: float, b: float) -> None:
    """Two amounts in one bucket render identically, so a range never reveals where in it the value lies."""
    a, b = round(a, 2), round(b, 2)
    low, high = money_edges(a, [1, 3, 7])
    assert low <= a < high
    if money_edges(b, [1, 3, 7]) == (low, high):
        assert generalise_money(f"{a:.2f}元", [1, 3, 7]) == generalise_money(f"{b:.2f}元", [1, 3, 7])


@pytest.mark.parametrize(("span", "shown"), [
    ("12.5%", "10%-20%"), ("百分之十二", "10%-20%"), ("3個百分點", "1-5個百分點"), ("三成", "30%-50%"),
    ("10%-15%", "10%-20%"), ("12％", "10％-20％"), ("25 percent", "20-30 percent"),
])
def test_percentages_become_bands(span: str, shown: str) -> None:
    assert band_percentage(span, [0, 1, 5, 10, 20, 30, 50, 70, 100]) == shown


def test_masks_keep_only_the_policy_digits() -> None:
    assert mask_digits("13812345678", 3, 4) == "138****5678"
    assert mask_digits("+86 138-1234-5678", 3, 4) == "+86 138-****-5678"
    assert mask_digits("11010519491231002X", 0, 4) == "**************002X"
    assert mask_email("chen.siyuan@example.com", 1) == "c**********@example.com"


# -- tiers ---------------------------------------------------------------------------------------------------------

SENTENCE = "市場部經理張偉負責,活動預算50萬元,轉化率12.5%,聯繫電話13812345678,身份證11010519491231002X。"


def test_public_never_shows_an_exact_figure_or_personal_datum(policy) -> None:
    for classification in policy.doc.classifications:
        for own in (True, False):
            shown = render_text(policy, SENTENCE, Audience("public", classification, own_department=own))
            for exact in ("50萬元", "12.5%", "張偉", "13812345678", "5678", "11010519491231002X"):
                assert exact not in shown, (classification, shown)
            assert "30-70萬元" in shown and "10%-20%" in shown and "張某" in shown


def test_internal_viewers_see_exact_figures_of_own_department_internal_cases_only(policy) -> None:
    own = render_text(policy, SENTENCE, Audience("internal", "internal", own_department=True))
    other = render_text(policy, SENTENCE, Audience("internal", "internal", own_department=False))
    confidential = render_text(policy, SENTENCE, Audience("internal", "confidential", own_department=True))
    assert "50萬元" in own and "12.5%" in own and "138****5678" in own
    assert "30-70萬元" in other and "50萬元" not in other and "張偉" in other
    assert "30-70萬元" in confidential and "張某" in confidential


def test_executives_and_authors_see_everything(policy) -> None:
    assert render_text(policy, SENTENCE, Audience("confidential", "confidential")) == SENTENCE
    assert render_text(policy, SENTENCE, Audience("public", "confidential", viewer_is_author=True)) == SENTENCE


def test_structured_fields_follow_the_same_tiers(policy, full_case) -> None:
    full_case["metrics"].append({"name": "ROI", "value": 35.5, "unit": "%", "kind": "roi", "source": "門店POS"})
    full_case["owner"] = "張偉"
    public = render_document(policy, full_case, Audience("public", "internal"))
    assert public["budget"] == {"amount": None, "currency": "CNY", "display": "300,000-700,000 CNY"}
    roi = public["metrics"][-1]
    assert roi["value"] is None and roi["display"] == "30%-50%"
    assert public["metrics"][0]["value"] == 12000                            # a head count is not sensitive
    assert public["owner"] == "張某" and public["data_sources"][1]["interviewees"] == ["店長王某"]
    assert "四十八萬元" not in public["body"]["data"] and "30-70萬元" in public["body"]["data"]
    exact = render_document(policy, full_case, Audience("confidential", "internal"))
    assert exact == full_case


def test_a_policy_whose_tier_table_has_a_gap_is_refused(policy) -> None:
    text = (Path(__file__).parents[1] / "policies" / "default.yaml").read_text(encoding="utf-8")
    gap = text.replace("    - {clearances: [public], action: remove}                  # never a personal datum in public\n", "")
    assert gap != text
    with pytest.raises(InvalidInput) as err:
        parse_policy(gap)
    assert any(p.field == "redaction.rules" and "PHONE_NUMBER" in p.rule and "public clearance" in p.rule
               for p in err.value.problems)


# -- CLI contract --------------------------------------------------------------------------------------------------

def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from casebook.cli import app

    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_detect_json_and_jsonl_offsets_are_python_indices(tmp_path: Path) -> None:
    code, out, _ = _run("redact", "detect", "-", "--json", input=SENTENCE)
    assert code == 0
    findings = json.loads(out)
    assert {f["entity_type"] for f in findings} >= {"MONEY", "PERCENTAGE", "PERSON", "PHONE_NUMBER", "CN_ID_CARD"}
    assert all(SENTENCE[f["start"]:f["end"]] == f["text"] for f in findings)
    lines = tmp_path / "in.jsonl"
    docs = [{"id": 7, "text": "Contact Jane Doe at jane.doe@example.com, budget $50,000."},
            {"id": "b", "text": "一共舉辦了3場活動"}]
    lines.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n", encoding="utf-8")
    code, out, _ = _run("redact", "detect", "--jsonl", str(lines))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [7, "b"] and rows[1]["findings"] == []
    for f in rows[0]["findings"]:
        assert set(f) == {"entity_type", "start", "end", "text", "score"}
        assert docs[0]["text"][f["start"]:f["end"]] == f["text"]
    assert {f["entity_type"] for f in rows[0]["findings"]} == {"PERSON", "EMAIL_ADDRESS", "MONEY"}


def test_cli_render_by_tier_and_jsonl(tmp_path: Path) -> None:
    code, out, _ = _run("redact", "render", "-", "--tier", "public", input="活動預算50萬元")
    assert (code, out) == (0, "活動預算30-70萬元")
    code, out, _ = _run("redact", "render", "-", "--tier", "internal", "--case-classification", "internal",
                        "--own-department", input="活動預算50萬元")
    assert out == "活動預算50萬元"
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": 1, "text": "预算50万元"}\n', encoding="utf-8")
    code, out, _ = _run("redact", "render", "--jsonl", str(lines), "--tier", "internal",
                        "--case-classification", "confidential")
    assert code == 0 and json.loads(out) == {"id": 1, "text": "预算30-70万元"}


def test_cli_bad_input_names_the_field_and_prints_nothing(tmp_path: Path) -> None:
    code, out, err = _run("redact", "render", "-", "--tier", "secret", input="x")
    assert code == 2 and "--tier" in err and "public, internal, confidential" in err and out == ""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "预算50万元"}\nnot json\n{"text": 3}\n', encoding="utf-8")
    code, out, err = _run("redact", "detect", "--jsonl", str(bad))
    assert code == 2 and out == "" and "line 2" in err and "line 3" in err
    code, _, err = _run("redact", "detect", "-", "--lang", "fr", input="x")
    assert code == 2 and "--lang" in err


# The speed-ups rewrite some patterns so that they start with a digit (the regex engine then skips to digits in
# C). These properties hold them to the plain formulations they replaced, on text made of the characters that
# matter around figures.
FIGURE_TEXT = st.text(alphabet="0123456789 -.,%％‰±+Xx至a比", max_size=60)
PLAIN_CARD = r"(?<![\d-])(?:\d{4}[ -]?){3,4}\d{3,4}(?![\d-])"
PLAIN_ID = r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"
SIGN = r"(?:[±+]\s?|(?<![0-9A-Za-z%‰.])-\s?)?"
PLAIN_PERCENT_RANGE = SIGN + r"\d+(?:\.\d+)?\s?[%‰]?\s?(?:-|~|～|–|—|至|到)\s?\d+(?:\.\d+)?\s?[%‰]"
PLAIN_PERCENT = SIGN + r"(?<![\d.])\d+(?:\.\d+)?\s?[%‰]"


@settings(max_examples=400, deadline=None)
@given(FIGURE_TEXT, st.integers(0, 3))
def test_rewritten_figure_patterns_match_their_plain_forms(text: str, repeat: int) -> None:
    import re

    from redaction.recognizers.country_specific.cn.id_card import ID
    from redaction.recognizers.generic.bank_card import CARD
    from redaction.numbers import normalise
    from redaction.recognizers.generic.percentage import RULES

    # Recognizers read normalised text (full-width figures as ASCII), so the patterns are held to it too.
    text = normalise(text + "1234567890" * repeat + text)      # long digit runs, so cards and IDs do occur
    for fast, plain in ((CARD, PLAIN_CARD), (ID, PLAIN_ID)):
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in re.finditer(plain, text)]
    for rule, plain in ((RULES[0], PLAIN_PERCENT_RANGE), (RULES[1], PLAIN_PERCENT)):
        assert list(rule.finditer(text)) == [m.span() for m in re.finditer(plain, text)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x2E80, max_codepoint=0x9FFF), max_size=20))
def test_script_normalisation_is_per_character_and_keeps_offsets(text: str) -> None:
    from opencc import OpenCC

    from casebook.core.textnorm import to_simplified

    t2s = OpenCC("t2s")
    expected = "".join(c if len(c) == 1 else ch for ch in text for c in [t2s.convert(ch)])
    assert to_simplified(text) == expected and len(to_simplified(text)) == len(text)

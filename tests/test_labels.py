"""Issue 17, bilingual and polished: reasons the system writes are stored coded and read in each reader's language
(an older row's sentence as it was); departments by their policy label and people by display name; money with
the policy's own symbol (never Babel's CN¥)."""

from __future__ import annotations

import json
import re
import pytest
from sqlalchemy import text

from casebook.core import reasons
from casebook.core.errors import InvalidInput, describe
from casebook.core.i18n import catalog, format_money
from casebook.core.locales import LOCALES
from casebook.web.i18n import writer
from policies import DEFAULT_POLICY_PATH
from policies.loader import parse_policy
from tests.web_helpers import NAMES, client, page_client, people, published_case


def test_a_coded_reason_reads_in_each_locale_and_a_legacy_sentence_as_stored() -> None:
    stored = reasons.encode(reasons.coded("superseded", by="CB-000009"),
                            reasons.coded("outdated", score=0.73, uses=1200, ratings=3, content_on="2024-05-01"))
    assert json.loads(stored)[0] == {"code": "superseded", "by": "CB-000009"}
    assert reasons.render(stored, "zh-Hant") == \
        "已由 CB-000009 取代；過時分數 0.73：1,200 次使用、3 則評分，內容更新於 2024年5月1日"
    assert reasons.render(stored, "zh-Hans").startswith("已由 CB-000009 取代；过时分数")
    assert reasons.render(stored, "en") == \
        "superseded by CB-000009; outdated score 0.73: 1,200 uses, 3 ratings, content from May 1, 2024"
    gaps = reasons.encode(reasons.coded("gap_section_empty", section="reflection"),
                          reasons.coded("gap_unsourced_figures", names=["ROI", "GMV"]))
    assert reasons.render(gaps, "zh-Hant") == "「反思」章節是空的；數據沒有來源：ROI、GMV"
    assert reasons.render(gaps, "en") == "empty section: Reflection; figures without a data source: ROI, GMV"
    # rows written before reasons were coded, and reasons a person typed, are shown as they are
    for legacy in ("validity period ended", "{not json", "[1, 2]", '{"no": "code"}', ""):
        assert reasons.decode(legacy) is None and reasons.render(legacy, "zh-Hant") == legacy
    with pytest.raises(KeyError):
        reasons.coded("no_such_reason")             # a code without its message cannot be stored


def test_every_reason_message_fills_in_every_locale() -> None:
    keys = [k for k in catalog() if k.startswith(reasons.PREFIX)]
    assert len(keys) >= 12
    for key in keys:
        names = set(re.findall(r"\{(\w+)\}", catalog()[key]["en"]))
        stored = reasons.reason(key.removeprefix(reasons.PREFIX), **{n: "2026-01-02" for n in names})
        for locale in LOCALES:
            shown = reasons.render(stored, locale)
            assert "{" not in shown and key not in shown, (key, locale, shown)


def test_money_carries_the_policys_symbol_in_every_locale() -> None:
    policy = parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for locale in LOCALES:
        w = writer(locale, policy)
        assert w.money(320000, "CNY") == "¥320,000", locale
        assert w.money("1200.5", "CNY") == "¥1,200.50", locale
        assert w.money(-12, "CNY") == "-¥12", locale
        assert w.budget({"amount": None, "currency": "CNY", "display": "300,000-700,000 CNY"}) == "¥300,000-700,000"
        assert w.metric({"name": "GMV", "value": 320000, "unit": "RMB"}) == "¥320,000"
        assert "CN¥" not in w.money(320000, "CNY")
    # Babel alone writes CN¥ outside mainland China: the reason the symbol is policy data
    assert format_money(320000, "CNY", "zh-Hant") == "CN¥320,000"
    assert format_money(320000, "CNY", "zh-Hant", symbol="¥") == "¥320,000"
    # the policy's own sign per locale, and the wan style untouched
    own = parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "CNY: {zh-Hant: ¥, zh-Hans: ¥, en: ¥}", "CNY: {zh-Hant: 人民幣, zh-Hans: ¥, en: 'RMB '}"))
    assert writer("zh-Hant", own).money(320000, "CNY") == "人民幣320,000"
    assert writer("en", own).money(320000, "CNY") == "RMB 320,000"
    wan = parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("money: symbol", "money: wan"))
    assert writer("zh-Hant", wan).money(320000, "CNY") == "32萬元"
    assert writer("en", wan).money(320000, "CNY") == "¥320,000"
    with pytest.raises(InvalidInput, match="display.currency_symbols.CNY: missing zh-Hans, zh-Hant"):
        parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
            "CNY: {zh-Hant: ¥, zh-Hans: ¥, en: ¥}", "CNY: {en: ¥}"))


def test_departments_have_labels_and_people_display_names(ctx, full_case) -> None:
    policy = ctx.policy
    assert [policy.label("marketing", loc) for loc in LOCALES] == ["市場部", "市场部", "Marketing"]
    users = people(ctx)
    key = published_case(ctx, users, full_case, "internal")
    author = page_client(ctx, "author")
    for locale, dept in (("zh-Hant", "市場部"), ("en", "Marketing")):
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE users SET locale = :l WHERE username = 'author'"), {"l": locale})
        page = author.get(f"/cases/{key}").text
        dd = re.findall(r"<dd>([^<]*)</dd>", page)
        assert dept in dd and NAMES["author"] in dd, (locale, dd)
        assert "marketing" not in dd and "author" not in dd
        assert f'<span class="who">{NAMES["author"]} ·' in page


def test_a_frozen_accounts_reason_reads_in_the_readers_language(ctx, full_case) -> None:
    from notifications.render import Recipient, render_message

    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    ctx.clock.current = ctx.clock.current.replace(hour=23)
    api = client(ctx, "intern")
    for _ in range(ctx.policy.doc.security.bulk_download_max):
        assert api.get(f"/api/v1/cases/{key}/export").status_code == 200
    assert api.get(f"/api/v1/cases/{key}/export").status_code == 403
    with ctx.engine.connect() as conn:
        stored = conn.execute(text("SELECT frozen_reason FROM users WHERE username = 'intern'")).scalar_one()
        raw = conn.execute(text("SELECT payload FROM outbox WHERE kind = 'account_frozen'")).scalar_one()
    payload = raw if isinstance(raw, dict) else json.loads(raw)        # JSON on PostgreSQL, text on SQLite
    assert reasons.decode(stored)[0]["code"] == "bulk_download"
    from tests.web_helpers import PASSWORD

    for accept, said in (("zh-TW", "非工作時間"), ("zh-CN", "非工作时间"), ("en", "downloads within")):
        r = client(ctx).post("/api/v1/auth/token", json={"username": "intern", "password": PASSWORD},
                             headers={"Accept-Language": accept})
        assert r.status_code == 403 and said in r.json()["message"] and '{"code"' not in r.text, accept
    ops = users["ops"]
    mail = render_message(ctx.policy, "account_frozen", payload, Recipient(ops, "ops@example.test", "zh-Hant"))
    assert "非工作時間" in mail.text and NAMES["intern"] in mail.text and '"code"' not in mail.text
    # the operations inbox names the person and says why, in the reader's language
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = 'zh-Hans' WHERE username = 'ops'"))
    ops_pages = page_client(ctx, "ops")
    inbox = ops_pages.get("/").text
    assert "非工作时间" in inbox and NAMES["intern"] in inbox
    listed = [i for i in ops_pages.get("/api/v1/me/tasks").json() if i["kind"] == "frozen_account"]
    assert listed[0]["reason"].startswith("非工作时间") and reasons.decode(listed[0]["detail"])
    # an account frozen before reasons were coded keeps its sentence
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET frozen_reason = '25 downloads within 60 minutes' WHERE username = 'intern'"))
    r = client(ctx).post("/api/v1/auth/token", json={"username": "intern", "password": PASSWORD},
                         headers={"Accept-Language": "zh-TW"})
    assert "25 downloads within 60 minutes" in r.json()["message"]
    assert describe(_frozen_error(ctx), "zh-Hant").endswith("25 downloads within 60 minutes")


def _frozen_error(ctx):  # type: ignore[no-untyped-def]
    from access.accounts import sign_in
    from casebook.core.errors import Forbidden
    from tests.web_helpers import PASSWORD

    try:
        sign_in(ctx, "intern", PASSWORD, kind="api", ip=None)
    except Forbidden as exc:
        return exc
    raise AssertionError("a frozen account signed in")

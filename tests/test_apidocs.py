"""The API reference in the reader's language: every operation of the app has its summary and description in
the catalog (a new endpoint without them fails here), the document in each language stays a valid OpenAPI
document with the same paths and schemas, and the JSON stays English for machines unless asked otherwise."""

from __future__ import annotations

import copy
import re

import pytest
from schemathesis.specs.openapi.adapter.validators import validate_v3

from casebook.core.i18n import catalog, gettext
from casebook.core.locales import LOCALES
from casebook.web.apidocs import description_key, localized_schema, summary_key, tag_key
from casebook.web.app import create_app
from tests.web_helpers import client, page_client, people

METHODS = ("get", "post", "put", "patch", "delete")


def _ops(schema: dict) -> dict[str, dict]:
    return {op["operationId"]: op for item in schema["paths"].values() for m, op in item.items() if m in METHODS}


def test_every_operation_and_tag_has_its_text_in_every_locale(ctx) -> None:
    schema = create_app(ctx).openapi()
    ops = _ops(schema)
    assert len(ops) >= 30 and len(ops) == sum(len(item) for item in schema["paths"].values())   # ids unique
    messages = catalog()
    missing = [key for op_id, op in ops.items()
               for key in (summary_key(op_id), description_key(op_id), *map(tag_key, op.get("tags", [])))
               if key not in messages]
    assert not missing, f"add these to casebook/core/messages/apidoc.yaml (zh-Hant, zh-Hans, en): {missing}"
    for op_id in ops:
        texts = messages[summary_key(op_id)]
        assert set(texts) == set(LOCALES) and texts["zh-Hans"] != texts["en"], op_id
        assert re.search(r"[\u4e00-\u9fff]", messages[description_key(op_id)]["zh-Hans"]), op_id
    # no entry outlives its endpoint (a renamed handler changes its operation id)
    known = {k for op_id in ops for k in (summary_key(op_id), description_key(op_id))}
    tags = {tag_key(t) for op in ops.values() for t in op.get("tags", [])}
    stale = [k for k in messages if k.startswith("apidoc.") and k not in known | tags
             and k != "apidoc.info.description"]
    assert not stale, stale


def test_the_zh_hans_document_carries_zh_hans_text_and_stays_valid(ctx) -> None:
    people(ctx)
    c = client(ctx, "intern")
    english = c.get("/api/v1/openapi.json").json()          # no language asked: the machine default
    simplified = c.get("/api/v1/openapi.json", params={"lang": "zh-Hans"}).json()
    for op_id, op in _ops(simplified).items():
        assert op["summary"] == gettext(summary_key(op_id), "zh-Hans")
        assert op["description"] == gettext(description_key(op_id), "zh-Hans")
        assert _ops(english)[op_id]["summary"] == gettext(summary_key(op_id), "en")
    assert "令牌" in simplified["info"]["description"] and "权杖" not in simplified["info"]["description"]
    assert {t["name"]: t["description"] for t in simplified["tags"]}["search"] == "搜索"
    # only words change: the same paths, parameters, bodies and schemas
    def shape(doc: dict) -> dict:
        doc = copy.deepcopy(doc)
        for op in _ops(doc).values():
            op.pop("summary"), op.pop("description")
        doc["info"].pop("description"), doc.pop("tags")
        return doc
    assert shape(simplified) == shape(english)
    for doc in (english, simplified):
        validate_v3(doc)
    broken = copy.deepcopy(simplified)
    next(iter(_ops(broken).values()))["summary"] = 7           # the validator does refuse a bad document
    with pytest.raises(Exception):
        validate_v3(broken)


def test_language_of_the_json_document(ctx) -> None:
    people(ctx)
    c = client(ctx, "intern")
    token = _ops(create_app(ctx).openapi())["token_api_v1_auth_token_post"]["operationId"]

    def summary(**kwargs) -> str:
        r = c.get("/api/v1/openapi.json", **kwargs)
        assert r.status_code == 200, r.text
        return _ops(r.json())[token]["summary"]

    assert summary() == "Sign in for a bearer token"
    assert summary(headers={"Accept-Language": "zh-CN,zh;q=0.9"}) == "登录以获取令牌"
    assert summary(headers={"Accept-Language": "zh-TW"}) == "登入以取得權杖"
    assert summary(params={"lang": "zh_CN"}, headers={"Accept-Language": "en"}) == "登录以获取令牌"   # ?lang= wins
    bad = c.get("/api/v1/openapi.json", params={"lang": "fr"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "lang"
    assert client(ctx).get("/api/v1/openapi.json", params={"lang": "zh-Hans"}).status_code == 401


def test_the_reference_page_follows_the_reader(ctx) -> None:
    people(ctx)
    pages = page_client(ctx, "intern")
    assert pages.post("/locale", data={"locale": "zh-Hans", "next": "/"}, follow_redirects=False).status_code == 303
    shown = pages.get("/api/v1/docs").text
    assert '<html lang="zh-Hans">' in shown and "API 参考" in shown
    assert "登录以获取令牌" in shown and "<h2>搜索</h2>" in shown and "openapi.json?lang=zh-Hans" in shown
    assert "<code translate=\"no\">X-Partner-Key</code>" in shown          # code spans of descriptions marked
    assert '<code translate="no">task_id</code>（路径参数，必填）' in shown
    english = pages.get("/api/v1/docs", params={"lang": "en"}).text
    assert '<html lang="en">' in english and "Sign in for a bearer token" in english and "登录" not in english
    assert '<code translate="no">task_id</code> (path, required)' in english
    assert "<script" not in shown and "cdn" not in shown.lower()
    assert localized_schema(pages.app, "zh-Hans") is localized_schema(pages.app, "zh-Hans")   # built once

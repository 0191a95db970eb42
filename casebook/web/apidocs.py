"""API reference for signed-in users only: the OpenAPI schema as JSON and a plain server-rendered page that
lists every operation with its parameters. No interactive UI, so nothing is loaded from a CDN and no script
runs (the schema can be opened in any OpenAPI tool).

Both speak the reader's language: operation summaries and descriptions, tag names and the document's
description come from the message catalog (``apidoc.<operationId>.summary|description``, ``apidoc.tag.<tag>``;
``casebook/core/messages/apidoc.yaml``). The page follows the reader's language (``?lang=`` overrides); the JSON
document is English for machines unless the caller asks for a language (``?lang=`` or ``Accept-Language``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from casebook.core import i18n
from casebook.core.errors import InvalidInput, Problem
from casebook.core.locales import LOCALES
from casebook.core.users import Actor
from casebook.web.deps import api_actor, optional_actor

router = APIRouter(prefix="/api/v1", include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")
#: The JSON document's language when the caller names none: clients and tools read English.
MACHINE_LOCALE = "en"
Lang = Query(None, max_length=16, description="zh-Hant, zh-Hans or en")


def summary_key(operation_id: str) -> str:
    return f"apidoc.{operation_id}.summary"


def description_key(operation_id: str) -> str:
    return f"apidoc.{operation_id}.description"


def tag_key(tag: str) -> str:
    return f"apidoc.tag.{tag}"


def _operations_of(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, item[method]) for path, item in schema.get("paths", {}).items()
            for method in METHODS if method in item]


def localized_schema(app: FastAPI, locale: str) -> dict[str, Any]:
    """The app's OpenAPI document with its summaries, descriptions and tag names in ``locale`` (one copy per
    locale, built once; the schema itself, paths, parameters and components, is the app's own)."""
    cache: dict[str, dict[str, Any]] | None = getattr(app.state, "openapi_i18n", None)
    if cache is None:
        cache = app.state.openapi_i18n = {}
    if locale not in cache:
        schema = copy.deepcopy(app.openapi())
        t = i18n.translator(locale)
        schema["info"]["description"] = t("apidoc.info.description")
        tags: dict[str, None] = {}
        for _path, _method, op in _operations_of(schema):
            op_id = op.get("operationId", "")
            if i18n.has(summary_key(op_id)):
                op["summary"] = t(summary_key(op_id))
            if i18n.has(description_key(op_id)):
                op["description"] = t(description_key(op_id))
            tags.update(dict.fromkeys(op.get("tags", [])))
        schema["tags"] = [{"name": tag, "description": t(tag_key(tag)) if i18n.has(tag_key(tag)) else tag}
                          for tag in tags]
        cache[locale] = schema
    return cache[locale]


def _asked(lang: str | None) -> str | None:
    """The locale ``?lang=`` names (any spelling of ours: zh-Hans, zh_CN, en-GB ...); 422 for another."""
    if lang is None or not lang.strip():
        return None
    tag = lang.strip().replace("_", "-").lower()
    if not re.fullmatch(r"(zh|en)(-[a-z0-9]+)*", tag):
        raise InvalidInput([Problem.of("lang", "err_one_of", allowed=", ".join(LOCALES))], "lang")
    return i18n.normalise_locale(tag)


@router.get("/openapi.json")
def openapi_schema(request: Request, lang: str | None = Lang,
                   actor: Actor = Depends(api_actor)) -> dict[str, Any]:
    """English unless ``?lang=`` or an ``Accept-Language`` header asks for one of our languages."""
    locale = _asked(lang)
    if locale is None:
        header = request.headers.get("accept-language")
        locale = i18n.negotiate(header) if header else MACHINE_LOCALE
    return localized_schema(request.app, locale)


def _text(text: str) -> list[tuple[bool, str]]:
    """A description as runs of (is code, text): the catalog marks code with backticks, the page shows <code>."""
    return [(i % 2 == 1, part) for i, part in enumerate(text.split("`")) if part]


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of the schema as (method, path, summary, description runs, tags, parameters, body)."""
    out = []
    for path, method, op in _operations_of(schema):
        out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                    "description": _text(op.get("description", "")), "tags": op.get("tags", []),
                    "parameters": [(p["name"], p["in"], p.get("required", False))
                                   for p in op.get("parameters", [])],
                    "body": "requestBody" in op})
    return out


def sections(schema: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The operations grouped under their first tag, in the order the document lists its tags."""
    names = {t["name"]: t.get("description", t["name"]) for t in schema.get("tags", [])}
    grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for op in operations(schema):
        grouped.setdefault((op["tags"] or [""])[0], []).append(op)
    return [(names.get(tag, tag), ops) for tag, ops in grouped.items() if ops]


@router.get("/docs")
def reference_page(request: Request, lang: str | None = Lang,
                   actor: Actor | None = Depends(optional_actor)) -> Response:
    """The reference in the reader's language (``?lang=`` shows it in another one)."""
    from casebook.web.pages import page, reader_locale

    if actor is None:
        return RedirectResponse("/login", status_code=303)
    ctx = request.app.state.ctx
    locale = _asked(lang) or reader_locale(request, ctx, actor)
    return page(request, ctx, actor, "api_docs.html", locale=locale,
                sections=sections(localized_schema(request.app, locale)))

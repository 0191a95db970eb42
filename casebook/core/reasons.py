"""Reasons the system writes itself (a health-check proposal, a work item, a frozen account), stored as codes
with parameters and put into words in each reader's language when shown.

A stored reason is JSON: one ``{"code": ..., <params>}`` or a list of them (shown joined). Each code is the
catalog message ``reason.<code>`` (``casebook/core/messages/reasons.yaml``). A row written before reasons were
coded holds an English sentence: it is shown as it is.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from casebook.core import i18n

PREFIX = "reason."
#: Parameters holding a date (ISO ``YYYY-MM-DD``): written as the locale writes dates.
DATE_PARAMS = ("content_on", "flagged_on")
#: Parameters holding a case state: written with the state's label.
STATE_PARAMS = ("state",)
#: Parameters holding a document section: written with the section's label.
SECTION_PARAMS = ("section",)


def coded(code: str, /, **params: Any) -> dict[str, Any]:
    """One reason part: a catalog code and its parameters (plain JSON values)."""
    if not i18n.has(PREFIX + code):
        raise KeyError(f"no catalog message {PREFIX}{code}")
    return {"code": code, **params}


def encode(*parts: dict[str, Any]) -> str:
    """What is stored: the part, or the parts in order."""
    return json.dumps(parts[0] if len(parts) == 1 else list(parts), ensure_ascii=False, sort_keys=True)


def reason(code: str, /, **params: Any) -> str:
    """``encode(coded(code, **params))``: a one-part reason ready to store."""
    return encode(coded(code, **params))


def decode(stored: str | None) -> list[dict[str, Any]] | None:
    """The parts of a coded reason; None for a legacy sentence (or nothing)."""
    if not stored or stored[:1] not in "{[":
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    parts = data if isinstance(data, list) else [data]
    if not parts or not all(isinstance(p, dict) and isinstance(p.get("code"), str) for p in parts):
        return None
    return parts


def _param(name: str, value: Any, locale: str) -> Any:
    if name in DATE_PARAMS and isinstance(value, str):
        try:
            return i18n.format_date(date.fromisoformat(value[:10]), locale)
        except ValueError:
            return value
    if name in STATE_PARAMS and i18n.has(f"state_{value}"):
        return i18n.gettext(f"state_{value}", locale)
    if name in SECTION_PARAMS and i18n.has(str(value)):
        return i18n.gettext(str(value), locale)
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        return value
    if isinstance(value, list):
        return ("、" if locale != "en" else ", ").join(str(v) for v in value)
    return i18n.format_number(value, locale)


def render(stored: str | None, locale: str) -> str:
    """A stored reason in ``locale``: each coded part from the catalog, joined; a legacy sentence as stored."""
    parts = decode(stored)
    if parts is None:
        return stored or ""
    locale = i18n.normalise_locale(locale)
    texts = [i18n.gettext(PREFIX + p["code"], locale,
                          **{k: _param(k, v, locale) for k, v in p.items() if k != "code"}) for p in parts]
    return ("; " if locale == "en" else "；").join(texts)


class StoredReason(str):
    """A stored reason passed as an error's parameter: English to ``str()`` (logs, audit), each reader's
    language through ``casebook.core.errors.describe``."""

    stored: str | None

    def __new__(cls, stored: str | None) -> StoredReason:
        obj = super().__new__(cls, render(stored, "en"))
        obj.stored = stored
        return obj

    def shown(self, locale: str) -> str:
        return render(self.stored, locale)

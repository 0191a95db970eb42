"""The pages' view of the message catalog (``casebook.core.i18n``): which language a request is answered in,
and the per-locale writers templates call (``t``, ``label``, ``money``, ``metric``, ``day``, ``moment``).

Language: a signed-in user's preference (``users.locale``); signed out, the choice kept in a cookie, else the
browser's Accept-Language. Figures: Babel through ``casebook.core.i18n``; money in the policy's display style.
A rendering's ``display`` (a range the redaction chose for this reader) is shown as stored: read paths never
run the analyzer, and the range is already written for readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from casebook.core import i18n
from casebook.core.errors import Problem, describe_problem
from casebook.core.i18n import has, negotiate, normalise_locale, translator
from casebook.core.locales import LOCALES
from casebook.core.reasons import decode as decode_reason, render as render_reason

__all__ = ["LOCALE_COOKIE", "Writer", "has", "locale_choice", "translator"]

#: The signed-out reader's language choice (a preference, not a secret: readable, one year).
LOCALE_COOKIE = "casebook_locale"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MONEY_RANGE = re.compile(r"^(\d[\d,]*(?:\.\d+)?)-(\d[\d,]*(?:\.\d+)?) ([A-Z]{3})$")


def _common(a: str, b: str) -> str:
    """The longest common start of two strings that holds no digit (a currency sign, never part of a figure)."""
    out = []
    for x, y in zip(a, b):
        if x != y or x.isdigit():
            break
        out.append(x)
    return "".join(out)


def locale_choice(cookie: str | None, accept_language: str | None) -> str:
    """A signed-out reader's language: the cookie's choice when it names one of ours, else Accept-Language."""
    if cookie in LOCALES:
        return str(cookie)
    return negotiate(accept_language)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class Writer:
    """Everything a page writes in its reader's language: catalog messages, policy labels and figures."""

    locale: str
    policy: Any  # policies.loader.Policy (typed loosely: the shell reads it, nothing here depends on its class)
    tz: tzinfo | None = None
    #: Display names of users (``casebook.core.users.People``); without it a user name is shown as stored.
    people: Any = None

    def t(self, key: str, /, **params: Any) -> str:
        return i18n.gettext(key, self.locale, **params)

    def label(self, code: Any) -> str:
        """A code's label: the policy's (library, scenario, outcome, tag ...), else the catalog's, else the code."""
        return i18n.label(self.policy, code, self.locale)

    def number(self, value: Any) -> str:
        number = _decimal(value)
        return "" if number is None else i18n.format_number(number.normalize() if number == number.to_integral()
                                                            else number, self.locale)

    def money(self, amount: Any, currency: str | None) -> str:
        """Money in the policy's style (``display.money``: ¥320,000 or 32萬元) with the policy's sign for the
        currency in this locale (``display.currency_symbols``)."""
        number = _decimal(amount)
        if number is None:
            return ""
        code = (currency or "CNY").upper()
        if not _CURRENCY.match(code):
            return f"{self.number(number)} {currency}"
        display = self.policy.doc.display
        return i18n.format_money(number, code, self.locale, style=display.money,
                                 symbol=display.symbol(code, self.locale))

    def budget(self, budget: dict[str, Any] | None) -> str:
        """A rendered budget: the range redaction chose for this reader, or the exact amount in the locale."""
        if not budget:
            return ""
        if budget.get("display"):
            return self.shown_range(str(budget["display"]))
        return self.money(budget.get("amount"), budget.get("currency"))

    def shown_range(self, display: str) -> str:
        """A stored money range (``300,000-700,000 CNY``) written like the exact amounts: ¥300,000-700,000 or
        30-70萬元. Only the range's figures are re-written (redaction chose them); anything else is kept."""
        found = _MONEY_RANGE.match(display.strip())
        if not found:
            return display
        low, high = (self.money(x.replace(",", ""), found.group(3)) for x in found.group(1, 2))
        prefix = _common(low, high)
        suffix = _common(low[::-1], high[::-1])[::-1]
        return f"{low[:len(low) - len(suffix)]}-{high[len(prefix):]}"

    def metric(self, metric: dict[str, Any]) -> str:
        """A rendered metric with its unit: 58人, 12.5%, ¥1,200,000; the stored range when it is withheld."""
        if metric.get("display"):
            return self.shown_range(str(metric["display"]))
        unit = str(metric.get("unit") or "").strip()
        if _CURRENCY.match(unit.upper()) and unit.upper() in ("CNY", "RMB", "USD", "HKD", "EUR"):
            return self.money(metric.get("value"), "CNY" if unit.upper() == "RMB" else unit.upper())
        value = self.number(metric.get("value"))
        if not unit:
            return value
        return f"{value} {unit}" if unit[0].isascii() and unit[0].isalpha() else f"{value}{unit}"

    def day(self, value: Any) -> str:
        """A date as the locale writes it (2026年12月3日); text that is not a date is shown as it is."""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        if isinstance(value, datetime) and self.tz is not None:
            value = value.astimezone(self.tz)
        if not isinstance(value, date):
            return "" if value is None else str(value)
        return i18n.format_date(value, self.locale)

    def moment(self, value: datetime | None) -> str:
        """A moment to the minute in the library's time zone (2026年12月3日 14:30)."""
        if value is None:
            return ""
        if self.tz is not None:
            value = value.astimezone(self.tz)
        return f"{i18n.format_date(value, self.locale)} {value:%H:%M}"

    def inbox_detail(self, item: Any) -> str:
        """What an inbox item is about, in words (the stored detail is a code, a level or an author's text)."""
        if item.kind == "review":
            found = re.match(r"L(\d+)\s+(\S+)", item.detail or "")
            return self.t("review_level", n=found.group(1), name=self.label(found.group(2))) if found else ""
        if has(f"state_{item.detail}"):
            return self.t("case_is", state=self.t(f"state_{item.detail}"))
        return self.t(f"detail_{item.kind}") if has(f"detail_{item.kind}") else ""

    def reason(self, stored: str | None) -> str:
        """A reason the system stored (a work item's, a health-check proposal's, a freeze's) in words; an older
        row's sentence as it is."""
        return render_reason(stored, self.locale)

    def system_reason(self, stored: Any) -> str:
        """A coded reason the system wrote on an audit event (an archive after retirement ...) in words; anything
        else (a person's free text, which is case text and shown only through redaction) as nothing."""
        return render_reason(stored, self.locale) if isinstance(stored, str) and decode_reason(stored) else ""

    def field_label(self, path: str) -> str:
        """A document path as the form names it: ``body.strategy`` -> 策略, ``metrics.0.value`` -> 數據 1 · 數值."""
        parts = [p for p in str(path).split(".") if p]
        if parts and parts[0] == "body":
            parts = parts[1:]
        words = []
        for part in parts:
            if part.isdigit():
                words.append(str(int(part) + 1))
            elif part in ("name", "value", "unit", "kind", "source") and words:
                words.append(self.t("metric_name" if part == "name" else part))
            else:
                words.append(self.label(part))
        return " · ".join(words)

    def finding(self, found: dict[str, Any]) -> str:
        """A pre-check finding in words: the passage it marks, the similar case, or the rule broken."""
        if found.get("text") and found.get("field"):
            return self.t("finding_passage", field=self.field_label(found["field"]), text=found["text"])
        if found.get("case"):
            return self.t("finding_similar", case=found["case"],
                          share=i18n.format_percent(float(found.get("similarity") or 0), self.locale))
        problem = Problem(str(found.get("field") or ""), str(found.get("rule") or ""))
        return describe_problem(problem, self.locale)

    def tag(self, tag: str) -> str:
        """A ``facet:value`` filter in words."""
        facet, _, value = tag.partition(":")
        return f"{self.label(facet)}: {self.label(value)}" if value else self.label(facet)

    def tier_name(self, name: str) -> str:
        """A sign-off tier (``internal`` or ``internal (own department)``) in words."""
        clearance, _, rest = name.partition(" ")
        label = self.label(clearance)
        return self.t("tier_own_department", tier=label) if rest else label

    def who(self, name: str | None) -> str:
        """A person by display name; the automatic actors (pre-checks, scheduled flows) in words."""
        key = f"actor_{name}"
        if has(key):
            return self.t(key)
        return self.people.name(name) if self.people is not None and name else str(name or "")

    def value(self, path: str, text: Any) -> Any:
        """A document value as shown: channels and tags by their labels, everything else as written."""
        if str(path).startswith(("tags.", "channels.")) and isinstance(text, str):
            return self.label(text)
        return text

    def note(self, note: str) -> str:
        """A version's note: the ones the system writes (``captured``) in words, an author's as written."""
        return self.t(f"note_{note}") if has(f"note_{note}") else note

    def audit_action(self, action: str) -> str:
        """An audit trail action in words: its own message, the event's name for case events, else a generic one."""
        key = "audit_" + re.sub(r"\W", "_", action)
        if has(key):
            return self.t(key)
        area, _, name = action.partition(".")
        if area == "case" and has(f"event_{name}"):
            return self.t(f"event_{name}")
        return self.t("audit_other")


def writer(locale: str | None, policy: Any, tz: tzinfo | None = None, people: Any = None) -> Writer:
    return Writer(normalise_locale(locale), policy, tz, people)

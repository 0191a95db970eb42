"""One message catalog for every user-facing string, in zh-Hant, zh-Hans and en, with Babel's locale formats.

The catalog is data: ``casebook/core/messages/*.yaml``, one file per area (web pages, CLI, errors, e-mails,
reports ...), each mapping a key to its three translations. Placeholders are ``{name}`` (``str.format``). A key
held by two files, or a message missing a locale, is refused when the catalog loads, so an untranslated string
cannot ship. Babel is imported only where a figure or date is formatted, which keeps the CLI's start-up fast.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Callable

from casebook.core.locales import LOCALES

MESSAGES_DIR = Path(__file__).with_name("messages")
DEFAULT_LOCALE = "zh-Hant"
FALLBACK_LOCALE = "en"
# Babel's identifier for each of our locales (region chosen for currency symbols and date patterns).
BABEL_LOCALES: dict[str, str] = {"zh-Hant": "zh_Hant_TW", "zh-Hans": "zh_Hans_CN", "en": "en_US"}

Translator = Callable[..., str]


class CatalogError(ValueError):
    """The message catalog is inconsistent (a key twice, a locale missing, a placeholder that differs)."""


_PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")


#: Bump when what a cached catalog holds changes.
_CACHE_FORMAT = "casebook-catalog-1"


def _cache_file(texts: list[tuple[str, bytes]]) -> Path:
    """Where the merged catalog of exactly these files is kept: the store's home (CASEBOOK_HOME, as the parsed
    policy), named by a hash of the format, the Python version and every file's name and bytes."""
    import hashlib
    import sys

    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{sys.version}".encode())
    for name, data in texts:
        digest.update(name.encode() + b"\0" + data + b"\0")
    home = Path(os.environ.get("CASEBOOK_HOME") or Path.home() / ".casebook")
    return home / "cache" / f"catalog-{digest.hexdigest()[:24]}.marshal"


def _plain(data: Any) -> bool:
    """Whether a cached catalog is what ``catalog()`` returns: key -> locale -> text, strings only."""
    return isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, dict) and set(v) == set(LOCALES)
        and all(isinstance(t, str) for t in v.values()) for k, v in data.items())


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every message, merged from the area files; refuses duplicates, missing locales and mismatched placeholders.

    The merged and checked catalog is kept (``marshal``, plain strings only) for the exact bytes of the files it
    was made from: parsing and checking the YAML is a tenth of a second of CPU, which every command that prints a
    message would pay. A cache that cannot be read or written is not used."""
    import marshal

    texts = [(path.name, path.read_bytes()) for path in sorted(MESSAGES_DIR.glob("*.yaml"))]
    cached = _cache_file(texts)
    try:
        data = marshal.loads(cached.read_bytes())
        if _plain(data):
            return data
    except (OSError, ValueError, EOFError, TypeError):
        pass
    merged = _merged(texts)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(marshal.dumps(merged))
        partial.replace(cached)   # whole or not at all, whichever process writes it
    except OSError:
        pass
    return merged


def _merged(files: list[tuple[str, bytes]]) -> dict[str, dict[str, str]]:
    """The area files merged and checked (see ``catalog``)."""
    import yaml

    # libyaml's parser where PyYAML has it: a tenth of the pure-Python parser's time on these 100 kB, which every
    # command that prints a message pays (tests/test_i18n_catalog.py checks both read every catalog file alike).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for name, raw in files:
        data = yaml.load(raw.decode("utf-8"), Loader=loader) or {}  # noqa: S506 - a safe loader
        for key, texts in data.items():
            key = str(key)
            if key in merged:
                raise CatalogError(f"message {key!r} is defined in both {origin[key]} and {name}")
            if not isinstance(texts, dict) or set(texts) != set(LOCALES):
                raise CatalogError(f"message {key!r} in {name} must give exactly {', '.join(LOCALES)}")
            if any(not isinstance(v, str) or not v.strip() for v in texts.values()):
                raise CatalogError(f"message {key!r} in {name} has an empty translation")
            shapes = {loc: sorted(set(_PLACEHOLDER.findall(v))) for loc, v in texts.items()}
            if len({tuple(s) for s in shapes.values()}) != 1:
                raise CatalogError(f"message {key!r} in {name} uses different placeholders per locale: {shapes}")
            merged[key] = {loc: texts[loc] for loc in LOCALES}
            origin[key] = name
    return merged


def has(key: str) -> bool:
    """Whether the catalog holds ``key``."""
    return key in catalog()


def normalise_locale(locale: str | None) -> str:
    """One of LOCALES for any spelling (zh_TW, zh-hk, zh-CN, en-GB ...); the default when unknown."""
    if not locale:
        return DEFAULT_LOCALE
    tag = locale.strip().replace("_", "-").lower()
    if tag in ("zh-hant",) or tag.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        return "zh-Hant"
    if tag == "zh" or tag.startswith(("zh-hans", "zh-cn", "zh-sg", "zh-my")):
        return "zh-Hans"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """The best of our locales for an Accept-Language header (q-values honoured); the default when none fits."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        bits = part.strip().split(";")
        tag = bits[0].strip()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        low = tag.lower()
        if low.startswith("zh") or low == "en" or low.startswith("en-"):
            return normalise_locale(tag)
    return DEFAULT_LOCALE


def gettext(key: str, locale: str, /, **params: Any) -> str:
    """The message ``key`` in ``locale`` with ``params`` filled in; the key itself if the catalog lacks it."""
    texts = catalog().get(key)
    if texts is None:
        return key
    text = texts.get(locale) or texts[FALLBACK_LOCALE]
    return text.format(**params) if params else text


def label(policy: Any, code: Any, locale: str, prefix: str = "") -> str:
    """A code as a reader reads it: the policy's label (library, role, department, level, scenario, tag ...), else
    the catalog's message ``prefix`` + code (e.g. ``status_``, ``kind_``), else the code itself."""
    text = str(code)
    found = policy.label(text, locale)
    if found:
        return found
    return gettext(prefix + text, locale) if has(prefix + text) else text


def translator(locale: str) -> Translator:
    """A one-argument-plus-params function bound to ``locale`` (what templates call ``t``)."""
    locale = normalise_locale(locale)

    def t(key: str, /, **params: Any) -> str:
        return gettext(key, locale, **params)

    return t


# -- formats (Babel) ---------------------------------------------------------------------------------------------

def babel_locale(locale: str) -> str:
    return BABEL_LOCALES[normalise_locale(locale)]


def format_number(value: float | int | Decimal, locale: str, *, digits: int | None = None) -> str:
    """A number with the locale's grouping and decimal signs (``digits`` fixes the fraction digits)."""
    from babel.numbers import format_decimal

    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=babel_locale(locale))
    return format_decimal(value, locale=babel_locale(locale))


def format_percent(value: float, locale: str, *, digits: int = 0) -> str:
    """A fraction (0.42) as a percentage in the locale's style."""
    from babel.numbers import format_percent as _fp

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return _fp(value, format=pattern, locale=babel_locale(locale))


def format_money(amount: float | int | Decimal, currency: str, locale: str, *, style: str = "symbol",
                 symbol: str | None = None) -> str:
    """Money as the locale writes it: ``style='symbol'`` gives ¥320,000; ``style='wan'`` gives 32萬元 in Chinese
    locales (counted in 萬/万 and 億/亿) and the symbol form in English. ``symbol`` (the policy's sign for this
    currency and locale) replaces Babel's, which writes CN¥ outside zh_Hans_CN."""
    from babel.numbers import format_currency

    loc = normalise_locale(locale)
    if style == "wan" and loc != "en" and currency.upper() == "CNY":
        return _wan(Decimal(str(amount)), loc)
    value = Decimal(str(amount))
    whole = value == value.to_integral_value()
    if symbol:
        figures = format_number(abs(value), loc, digits=0 if whole else 2)
        return f"{'-' if value < 0 else ''}{symbol}{figures}"
    pattern = "¤#,##0" if whole else "¤#,##0.00"
    return format_currency(amount, currency.upper(), format=pattern, locale=babel_locale(loc), currency_digits=False)


def _wan(amount: Decimal, locale: str) -> str:
    yi, wan, yuan = ("億", "萬", "元") if locale == "zh-Hant" else ("亿", "万", "元")
    for size, unit in ((Decimal(100_000_000), yi), (Decimal(10_000), wan)):
        if abs(amount) >= size:
            scaled = (amount / size).quantize(Decimal("0.01")).normalize()
            text = format_number(scaled, locale)
            return f"{text}{unit}{yuan}"
    return f"{format_number(amount, locale)}{yuan}"


def format_date(value: date | datetime, locale: str, *, length: str = "long") -> str:
    """A date as the locale writes it (2026年12月3日, December 3, 2026)."""
    from babel.dates import format_date as _fd

    day = value.date() if isinstance(value, datetime) else value
    return _fd(day, format=length, locale=babel_locale(locale))


def format_datetime(value: datetime, locale: str, *, length: str = "medium") -> str:
    """A moment as the locale writes it, to the minute."""
    from babel.dates import format_datetime as _fdt

    return _fdt(value, format=length, locale=babel_locale(locale))

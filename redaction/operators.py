"""Operators that turn one detected span into what an audience may see.

Ranges use fixed, policy-defined edges (so a range never centres on the true value) and keep the span's
own unit, currency and script: 50萬元 → 30-70萬元, 12.5% → 10%-20%, 138 1234 5678 → 138 **** 5678.
Each function takes only the span text, which is what presidio-anonymizer's ``custom`` operator passes.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from functools import lru_cache
from typing import Any

from casebook.core.textnorm import to_simplified
from redaction.lexicon import COMPOUND_SURNAMES
from redaction.numbers import Amount, amounts, normalise, one_arabic_amount, parse_number



def money_edges(value: float, mantissas: list[float] | tuple[float, ...]) -> tuple[float, float]:
    """The fixed bucket [low, high) holding ``value`` (in base currency units); 0 starts the first bucket."""
    if value < mantissas[0]:
        return 0.0, mantissas[0]
    candidates = _candidates(tuple(mantissas), math.floor(math.log10(value)))
    at = bisect_right(candidates, value)
    if not at:                                          # as max() of no candidate did (never for mantissas in [1, 10))
        raise ValueError("no bucket edge at or below the value")
    low = candidates[at - 1]
    above = bisect_right(candidates, low)
    if above == len(candidates):                        # as min() of no candidate did
        raise ValueError("no bucket edge above the value")
    return low, candidates[above]


@lru_cache(maxsize=4096)
def _candidates(mantissas: tuple[float, ...], exp: int) -> tuple[float, ...]:
    """The bucket edges around one power of ten, sorted: worked out once per exponent, not per span."""
    return tuple(sorted(round(m * 10 ** e, 9) for e in (exp - 1, exp, exp + 1) for m in mantissas))


@lru_cache(maxsize=4096, typed=True)
def _fmt(value: float, separators: bool) -> str:
    """A bucket edge as shown (edges repeat across spans, so each is formatted once)."""
    rounded = round(value, 6)
    text = f"{rounded:,.6f}" if separators else f"{rounded:.6f}"
    return text.rstrip("0").rstrip(".")


def _bounds(amount: Amount, multiplier: int) -> tuple[float, float]:
    """The values an amount may stand for, in base units. 50多万 is "50 and some": up to the next step of its
    last significant digit (50 -> 60, 5 -> 6). A number written without a magnitude inside a range takes the
    range's (30-50万 is 30万 to 50万)."""
    mult = amount.multiplier if amount.magnitude else multiplier
    if not amount.approximate:
        return amount.value * mult, amount.value * mult
    step = 10 ** math.floor(math.log10(amount.value)) if amount.value >= 10 else 1
    return amount.value * mult, (amount.value + step) * mult - 1e-9


#: A span's parse, independent of policy: what ``redaction.analyzer`` stores with each finding (as JSON) so that a
#: rendering only bands, formats and splices. The first item names the kind and its layout; raise the number
#: when a layout changes (a stored parse under another tag is ignored and the span parsed again).
MONEY_SHAPE, RELATIVE_SHAPE, DIGITS_SHAPE = "m1", "p1", "d1"
#: (MONEY_SHAPE, lowest and highest value the span may stand for in base units, the multiplier its range is shown
#: in, whether it writes thousands separators, the text before and after the figures); (MONEY_SHAPE,) when no number
#: is readable (shown as a label).
MoneyShape = tuple[Any, ...]


def generalise_money(text: str, mantissas: list[float]) -> str:
    """50萬元 → 30-70萬元; 伍拾萬元 → 30-70萬元; 5,000至8,000元 → 3,000-10,000元; US$1.2 million → US$1-3 million.

    Every number of the span is replaced by one range on fixed edges (in the magnitude of its last number),
    whatever form it was written in; a span with no readable number is replaced by a label. Parsing
    (``money_shape``, policy-independent, stored with the finding at detection) and banding (``show_money``)
    are apart, so a stored parse renders exactly what the span does."""
    return show_money(money_shape(text), mantissas)


def show_money(shape: MoneyShape, mantissas: list[float]) -> str:
    """A parsed money span on the policy's bucket edges (see ``generalise_money``)."""
    if len(shape) == 1:
        return "[amount]"
    _, low_total, high_total, mult, separators, head, tail = shape
    if low_total == high_total:
        low, high = money_edges(low_total, mantissas)
    else:
        low, _ = money_edges(low_total, mantissas)
        _, high = money_edges(high_total, mantissas)
    return f"{head}{_fmt(low / mult, separators)}-{_fmt(high / mult, separators)}{tail}"


def money_shape(text: str) -> MoneyShape:
    """The policy-independent part of ``generalise_money``: a span of one exact Arabic amount (most figures) takes a
    fast path with the same result (``tests/test_redaction_numerals.py`` holds it to the general path)."""
    one = one_arabic_amount(text)
    if one is not None:
        return _one_money(text, one)
    return _money(text)


def _spacing(text: str, magnitude: str, end: int) -> str:
    """The space shown before a magnitude: as written, and always before a word (US$1-3 million)."""
    spaced = " " if magnitude and text[end - len(magnitude) - 1:end - len(magnitude)] == " " else ""
    if magnitude and magnitude[0].isalpha() and magnitude.isascii() and len(magnitude) > 2:
        spaced = " "
    return spaced


def _money(text: str) -> MoneyShape:
    """``money_shape`` by the general path (every form: ranges, 多/余, Chinese numerals)."""
    found = amounts(text)
    if not found:
        return (MONEY_SHAPE,)
    last = found[-1]
    mult = last.multiplier if last.magnitude else 1
    totals = [b for a in found for b in _bounds(a, mult)]
    if not all(math.isfinite(v) for v in totals):  # an absurd stored figure is labelled, never a crash
        return (MONEY_SHAPE,)
    magnitude = last.magnitude
    return (MONEY_SHAPE, min(totals), max(totals), mult, "," in text, text[:found[0].start],
            f"{_spacing(text, magnitude, last.end)}{magnitude}{text[last.end:]}")


def _one_money(text: str, amount: Amount) -> MoneyShape:
    """``money_shape`` of a span holding one exact Arabic amount (most figures): the same steps, without the
    lists and bounds a range needs."""
    mult = amount.multiplier
    total = amount.value * mult
    if not math.isfinite(total):
        return (MONEY_SHAPE,)
    magnitude = amount.magnitude
    return (MONEY_SHAPE, total, total, mult, "," in text, text[:amount.start],
            f"{_spacing(text, magnitude, amount.end)}{magnitude}{text[amount.end:]}")


_POINTS = re.compile(r"個百分點|个百分点|percentage points?|pp\b|basis points?|bps", re.I)
_PERCENT_WORD = re.compile(r"percent|per cent|pct", re.I)
_FRACTION = re.compile(r"([一二两兩三四五六七八九十]+)分之([一二三四五六七八九十]+)")
_CHENG = re.compile(r"([一二两兩三四五六七八九])成(半|[一二三四五六七八九])?")
_BASIS = re.compile(r"basis points?|bps", re.I)
_UNIT_WORDS = re.compile(r"[百千万]分之|个百分点|percentage points?|percent|per cent|pct|basis points?|bps", re.I)


def percentage_values(text: str) -> list[float]:
    """The percentages (or points) a span states: 百分之十五點五 → [15.5], 千分之五 → [0.5], 兩成半 → [25],
    三分之一 → [33.3…], 10%-15% → [10, 15], 50 bps → [0.5]."""
    simple = to_simplified(text)
    cheng = _CHENG.search(simple)
    if cheng:
        tenth = {"半": 5}.get(cheng.group(2) or "", parse_number(cheng.group(2) or "零") or 0)
        return [(parse_number(cheng.group(1)) or 0) * 10 + tenth]
    fraction = _FRACTION.search(simple)
    if fraction and not simple.startswith(("百分之", "千分之", "万分之")):
        whole, part = parse_number(fraction.group(1)), parse_number(fraction.group(2))
        return [100 * part / whole] if whole and part is not None else []
    scale = 1.0
    if "千分之" in simple or "‰" in simple:
        scale = 0.1
    elif "万分之" in simple or _BASIS.search(simple):
        scale = 0.01
    body = _UNIT_WORDS.sub(" ", simple)
    return [a.value * a.multiplier * scale for a in amounts(body)]


def _band(value: float, edges: list[float]) -> tuple[float, float | None]:
    """The band [low, high) of ``value`` on edges in increasing order (the policy checks they are); None above
    the last edge, the first edge below it."""
    if value != value:                                  # NaN (an absurd ratio such as inf:inf) is below no edge
        return edges[0], None
    at = bisect_right(edges, value)
    return (edges[at - 1] if at else edges[0]), (edges[at] if at < len(edges) else None)


#: A percentage or ratio span's parse (``relative_shape``): (RELATIVE_SHAPE, whether it is a ratio (banded on the
#: ratio edges), its lowest and highest value, the mark after each edge (%), the unit after the band, what stands
#: before and after the band (a sign, "1:")); (RELATIVE_SHAPE, label) when nothing is readable.
RelativeShape = tuple[Any, ...]


def show_relative(shape: RelativeShape, edges: list[float], ratio_edges: list[float]) -> str:
    """A parsed percentage or ratio on the policy's band edges (see ``generalise_relative``)."""
    if len(shape) == 2:
        return shape[1]
    _, ratio, lowest, highest, mark, tail, before, after = shape
    table = ratio_edges if ratio else edges
    low, high = _band(lowest, table)
    if highest != lowest:
        _, high = _band(highest, table)
    if high is None:
        return f"{before}≥{_fmt(low, False)}{mark}{tail}{after}"
    return f"{before}{_fmt(low, False)}{mark}-{_fmt(high, False)}{mark}{tail}{after}"


def band_percentage(text: str, edges: list[float]) -> str:
    """12.5% → 10%-20%; 百分之十五點五 → 10%-20%; 3個百分點 → 1-5個百分點; 三成 → 30%-50%; -12% → -(10%-20%)."""
    return show_relative(_percentage_shape(text), edges, edges)


def _percentage_shape(text: str) -> RelativeShape:
    values = percentage_values(text)
    if not values:
        return (RELATIVE_SHAPE, "[percentage]")
    negative = text.lstrip().startswith("-") or text.lstrip().startswith("−")
    sign = "±" if "±" in text else ""
    point = _POINTS.search(text)
    word = _PERCENT_WORD.search(text)
    if point and point.group(0).lower().startswith(("basis", "bps")):
        unit, sep = "percentage points", " "
    elif point:
        unit = point.group(0)
        sep = " " if unit[0].isascii() else ""
    elif word:
        unit, sep = word.group(0), " "
    else:
        unit, sep = ("％" if "％" in text else "%"), ""
    mark = "" if point or word else unit
    return (RELATIVE_SHAPE, False, min(values), max(values), mark, "" if mark else sep + unit, f"-({sign}" if negative else sign,
            ")" if negative else "")


def band_ratio(text: str, edges: list[float]) -> str:
    """A ratio as a band on the policy's fixed edges: 1:3.5 → 1:3-5, 3.5 → 3-5 (ROI 3.5 → ROI 3-5)."""
    return show_relative(_ratio_shape(text), edges, edges)


def _ratio_shape(text: str) -> RelativeShape:
    numbers = [a.value for a in amounts(text)]
    if not numbers:
        return (RELATIVE_SHAPE, "[ratio]")
    value = numbers[-1] / numbers[0] if len(numbers) == 2 and numbers[0] else numbers[-1]
    return (RELATIVE_SHAPE, True, value, value, "", "", "1:" if ":" in normalise(text) else "", "")


RATIO_SHAPE = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:[:：]\s*\d+(?:\.\d+)?)?\s*$")


#: The commonest percentage and ratio spans, read without the general path: 12.5%, -3％, ２９％; 3.5, 1:3.5.
_PLAIN_PERCENT = re.compile(r"-?(\d+(?:\.\d+)?)%")
_PLAIN_RATIO = re.compile(r"(\d+(?:\.\d+)?)(?:[:：](\d+(?:\.\d+)?))?")


def generalise_relative(text: str, edges: list[float], ratio_edges: list[float]) -> str:
    """A PERCENTAGE finding: a ratio (a bare number or a:b, found next to ROI and the like) or a percentage.
    Parsing (``relative_shape``, policy-independent, stored with the finding at detection) and banding
    (``show_relative``) are apart, so a stored parse renders exactly what the span does."""
    return show_relative(relative_shape(text), edges, ratio_edges)


def relative_shape(text: str) -> RelativeShape:
    """The policy-independent part of ``generalise_relative``. A plain percentage or ratio with no space or word
    in it (most of them) is read straight from its digits, exactly as the general path would
    (``tests/test_redaction_numerals.py`` holds them to it)."""
    ratio = _PLAIN_RATIO.fullmatch(text)
    if ratio:
        first, second = float(ratio.group(1)), ratio.group(2)
        value = float(second) / first if second is not None and first else float(second or first)
        return (RELATIVE_SHAPE, True, value, value, "", "", "" if second is None else "1:", "")
    percent = _PLAIN_PERCENT.fullmatch(normalise(text))
    if percent:
        value = float(percent.group(1))
        negative = text.startswith(("-", "−"))
        return (RELATIVE_SHAPE, False, value, value, "％" if "％" in text else "%", "", "-(" if negative else "",
                ")" if negative else "")
    return _relative(text)


def _relative(text: str) -> RelativeShape:
    """``relative_shape`` by the general path (every form)."""
    if RATIO_SHAPE.match(text):
        return _ratio_shape(text)
    return _percentage_shape(text)


_CN_PREFIX = re.compile(r"^\s*(?:\+\s?86|0086)[\s-]?")


def mask_digits(text: str, keep_start: int, keep_end: int, char: str = "*") -> str:
    """Mask every digit but the first ``keep_start`` and last ``keep_end`` (a +86 / 0086 prefix stays)."""
    return show_masked(text, digits_shape(text), keep_start, keep_end, char)


def digits_shape(text: str) -> tuple[Any, ...]:
    """(DIGITS_SHAPE, where each maskable character of a number stands: digits and an ID card's X, after a +86 /
    0086 prefix): the policy-independent part of ``mask_digits``."""
    prefix = _CN_PREFIX.match(text)
    return (DIGITS_SHAPE, *(i for i in range(prefix.end() if prefix else 0, len(text))
                            if text[i].isdigit() or text[i] in "Xx"))


def show_masked(text: str, shape: tuple[Any, ...] | list[Any], keep_start: int, keep_end: int,
                char: str = "*") -> str:
    """``text`` with the characters of ``digits_shape`` masked but the first ``keep_start`` and last ``keep_end``."""
    positions = shape[1:]
    count = len(positions)
    if 0 <= keep_start and 0 < keep_end <= count - keep_start:   # the usual case: one slice in the middle
        hidden = positions[keep_start:count - keep_end]
    else:
        visible = set(positions[:keep_start]) | set(positions[count - keep_end:] if keep_end else [])
        hidden = [i for i in positions if i not in visible]
    if not hidden:
        return text
    chars = list(text)
    for i in hidden:
        chars[i] = char
    return "".join(chars)


def shape_of(entity: str, text: str) -> tuple[Any, ...] | None:
    """A detected span's policy-independent parse, stored with its finding (JSON-safe: finite numbers, strings,
    booleans): money and percentages parsed, digit positions of numbers that are masked. None for a span with no
    such parse, or one whose parsing fails or gives a non-finite value: its rendering then parses the text (and
    fails or labels it exactly as it would have)."""
    try:
        if entity == "MONEY":
            return money_shape(text)
        if entity == "PERCENTAGE":
            shape = relative_shape(text)
            return shape if len(shape) == 2 or (math.isfinite(shape[2]) and math.isfinite(shape[3])) else None
        if entity in _NOT_DIGITS:
            return None
        return digits_shape(text)
    except Exception:  # noqa: BLE001 - the rendering meets the same error on the text path
        return None


_NOT_DIGITS = frozenset({"PERSON", "EMAIL_ADDRESS", "STRATEGY"})


def mask_email(text: str, keep_start: int, keep_end: int = 0, char: str = "*") -> str:
    """j.smith@example.com → j******@example.com: the mailbox is masked, the domain stays."""
    local, at, domain = text.partition("@")
    if not at:
        return char * len(text)
    kept_end = local[len(local) - keep_end:] if keep_end else ""
    return local[:keep_start] + char * max(len(local) - keep_start - keep_end, 1) + kept_end + at + domain


_HAN = re.compile(r"[\u4e00-\u9fff]")


def generalise_person(text: str) -> str:
    """王小明 → 王某, 歐陽娜娜 → 歐陽某 (script kept); an English name becomes a neutral label."""
    name = text.strip()
    if name.endswith("某"):  # already anonymised by its author
        return name
    if _HAN.match(name):
        surname = name[:2] if to_simplified(name[:2]) in COMPOUND_SURNAMES else name[:1]
        return surname + "某"
    return "[name]"


_LABELS = {
    "MONEY": ("〔金額〕", "〔金额〕", "[amount]"),
    "PERCENTAGE": ("〔比例〕", "〔比例〕", "[percentage]"),
    "PERSON": ("〔人名〕", "〔人名〕", "[name]"),
    "PHONE_NUMBER": ("〔電話〕", "〔电话〕", "[phone]"),
    "EMAIL_ADDRESS": ("〔郵箱〕", "〔邮箱〕", "[e-mail]"),
    "CN_ID_CARD": ("〔證件號〕", "〔证件号〕", "[ID number]"),
    "BANK_CARD": ("〔銀行卡〕", "〔银行卡〕", "[card number]"),
    "STRATEGY": ("〔未公開信息〕", "〔未公开信息〕", "[undisclosed]"),
}


def remove_label(entity: str, text: str, script: str = "en") -> str:
    """A placeholder naming what was removed, in the script of the surrounding text (zh-Hant, zh-Hans, en)."""
    trad, simp, en = _LABELS.get(entity, ("〔已隱去〕", "〔已隐去〕", "[removed]"))
    return {"zh-Hant": trad, "zh-Hans": simp}.get(script, en)


def script_of(text: str) -> str:
    """zh-Hant when the text holds Traditional-only characters, zh-Hans for other Chinese, else en."""
    if not _HAN.search(text):
        return "en"
    return "zh-Hant" if not _traditional().isdisjoint(text) else "zh-Hans"


@lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """Characters Simplified conversion changes (same test as ``to_simplified(text) != text``, without a copy)."""
    from casebook.core.textnorm import _table

    return frozenset(chr(code) for code in _table())

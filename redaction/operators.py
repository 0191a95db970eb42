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


def generalise_money(text: str, mantissas: list[float]) -> str:
    """50萬元 → 30-70萬元; 伍拾萬元 → 30-70萬元; 5,000至8,000元 → 3,000-10,000元; US$1.2 million → US$1-3 million.

    Every number of the span is replaced by one range on fixed edges (in the magnitude of its last number),
    whatever form it was written in; a span with no readable number is replaced by a label. A span of one
    exact Arabic amount (most figures) takes a fast path with the same result (``tests/test_redaction_numerals.py``
    holds it to the general path in every form)."""
    one = one_arabic_amount(text)
    if one is not None:
        return _one_money(text, one, mantissas)
    return _money(text, mantissas)


def _money(text: str, mantissas: list[float]) -> str:
    """``generalise_money`` by the general path (every form: ranges, 多/余, Chinese numerals)."""
    found = amounts(text)
    if not found:
        return "[amount]"
    last = found[-1]
    mult = last.multiplier if last.magnitude else 1
    totals = [b for a in found for b in _bounds(a, mult)]
    if not all(math.isfinite(v) for v in totals):  # an absurd stored figure is labelled, never a crash
        return "[amount]"
    low, _ = money_edges(min(totals), mantissas)
    _, high = money_edges(max(totals), mantissas)
    magnitude = last.magnitude
    spaced = " " if magnitude and text[last.end - len(magnitude) - 1:last.end - len(magnitude)] == " " else ""
    if magnitude and magnitude[0].isalpha() and magnitude.isascii() and len(magnitude) > 2:
        spaced = " "                                           # US$1-3 million
    core = f"{_fmt(low / mult, ',' in text)}-{_fmt(high / mult, ',' in text)}{spaced}{magnitude}"
    return text[:found[0].start] + core + text[last.end:]


def _one_money(text: str, amount: Amount, mantissas: list[float]) -> str:
    """``generalise_money`` of a span holding one exact Arabic amount (most figures): the same steps, without
    the lists, bounds and second bucket lookup a range needs."""
    mult = amount.multiplier
    total = amount.value * mult
    if not math.isfinite(total):
        return "[amount]"
    low, high = money_edges(total, mantissas)
    magnitude = amount.magnitude
    spaced = " " if magnitude and text[amount.end - len(magnitude) - 1:amount.end - len(magnitude)] == " " else ""
    if magnitude and magnitude[0].isalpha() and magnitude.isascii() and len(magnitude) > 2:
        spaced = " "
    separators = "," in text
    return f"{text[:amount.start]}{_fmt(low / mult, separators)}-{_fmt(high / mult, separators)}{spaced}{magnitude}" \
        f"{text[amount.end:]}"


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


def band_percentage(text: str, edges: list[float]) -> str:
    """12.5% → 10%-20%; 百分之十五點五 → 10%-20%; 3個百分點 → 1-5個百分點; 三成 → 30%-50%; -12% → -(10%-20%)."""
    values = percentage_values(text)
    if not values:
        return "[percentage]"
    negative = text.lstrip().startswith("-") or text.lstrip().startswith("−")
    low, _ = _band(min(values), edges)
    _, high = _band(max(values), edges)
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
    if high is None:
        shown = f"≥{_fmt(low, False)}{mark}{sep if not mark else ''}{unit if not mark else ''}"
    else:
        shown = f"{_fmt(low, False)}{mark}-{_fmt(high, False)}{mark}{sep if not mark else ''}{unit if not mark else ''}"
    return f"-({sign}{shown})" if negative else f"{sign}{shown}"


def band_ratio(text: str, edges: list[float]) -> str:
    """A ratio as a band on the policy's fixed edges: 1:3.5 → 1:3-5, 3.5 → 3-5 (ROI 3.5 → ROI 3-5)."""
    numbers = [a.value for a in amounts(text)]
    if not numbers:
        return "[ratio]"
    value = numbers[-1] / numbers[0] if len(numbers) == 2 and numbers[0] else numbers[-1]
    low, high = _band(value, edges)
    shown = f"{_fmt(low, False)}-{_fmt(high, False)}" if high is not None else f"≥{_fmt(low, False)}"
    return f"1:{shown}" if ":" in normalise(text) else shown


RATIO_SHAPE = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:[:：]\s*\d+(?:\.\d+)?)?\s*$")


#: The commonest percentage and ratio spans, read without the general path: 12.5%, -3％, ２９％; 3.5, 1:3.5.
_PLAIN_PERCENT = re.compile(r"-?(\d+(?:\.\d+)?)%")
_PLAIN_RATIO = re.compile(r"(\d+(?:\.\d+)?)(?:[:：](\d+(?:\.\d+)?))?")


def generalise_relative(text: str, edges: list[float], ratio_edges: list[float]) -> str:
    """A PERCENTAGE finding: a ratio (a bare number or a:b, found next to ROI and the like) or a percentage.
    A plain percentage or ratio with no space or word in it (most of them) is banded straight from its digits,
    exactly as ``band_percentage`` / ``band_ratio`` would (``tests/test_redaction_numerals.py`` holds them to it)."""
    ratio = _PLAIN_RATIO.fullmatch(text)
    if ratio:
        first, second = float(ratio.group(1)), ratio.group(2)
        value = float(second) / first if second is not None and first else float(second or first)
        low, high = _band(value, ratio_edges)
        shown = f"{_fmt(low, False)}-{_fmt(high, False)}" if high is not None else f"≥{_fmt(low, False)}"
        return f"1:{shown}" if second is not None else shown
    percent = _PLAIN_PERCENT.fullmatch(normalise(text))
    if percent:
        low, high = _band(float(percent.group(1)), edges)
        mark = "％" if "％" in text else "%"
        shown = f"{_fmt(low, False)}{mark}-{_fmt(high, False)}{mark}" if high is not None \
            else f"≥{_fmt(low, False)}{mark}"
        return f"-({shown})" if text.startswith(("-", "−")) else shown
    return _relative(text, edges, ratio_edges)


def _relative(text: str, edges: list[float], ratio_edges: list[float]) -> str:
    """``generalise_relative`` by the general path (every form)."""
    if RATIO_SHAPE.match(text):
        return band_ratio(text, ratio_edges)
    return band_percentage(text, edges)


_CN_PREFIX = re.compile(r"^\s*(?:\+\s?86|0086)[\s-]?")


def mask_digits(text: str, keep_start: int, keep_end: int, char: str = "*") -> str:
    """Mask every digit but the first ``keep_start`` and last ``keep_end`` (a +86 / 0086 prefix stays)."""
    prefix = _CN_PREFIX.match(text)
    head = prefix.group(0) if prefix else ""
    body = text[len(head):]
    positions = [i for i, ch in enumerate(body) if ch.isdigit() or ch in "Xx"]
    visible = set(positions[:keep_start]) | set(positions[len(positions) - keep_end:] if keep_end else [])
    hidden = set(positions) - visible
    return head + "".join(char if i in hidden else ch for i, ch in enumerate(body))


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

"""Operators that turn one detected span into what an audience may see.

Ranges use fixed, policy-defined edges (so a range never centres on the true value) and keep the span's
own unit, currency and script: 50萬元 → 30-70萬元, 12.5% → 10%-20%, 138 1234 5678 → 138 **** 5678.
Each function takes only the span text, which is what presidio-anonymizer's ``custom`` operator passes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from casebook.core.textnorm import to_simplified
from redaction.lexicon import COMPOUND_SURNAMES
from redaction.numbers import parse_number

# A number (Arabic with separators, or Chinese numerals) and an optional magnitude right after it.
_CN_NUM = "零〇一二两兩三四五六七八九十百千"
_NUMBER = re.compile(
    rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|[{_CN_NUM}萬万億亿]*[{_CN_NUM}][{_CN_NUM}萬万億亿]*)"
    r"(?:\s?(?P<mag>萬億|万亿|千萬|千万|百萬|百万|十萬|十万|萬|万|億|亿|千|thousand|million|billion|mn|bn|[kKmMbB](?![a-zA-Z])))?")
_MAGNITUDE = {"萬億": 10**12, "万亿": 10**12, "千萬": 10**7, "千万": 10**7, "百萬": 10**6, "百万": 10**6,
              "十萬": 10**5, "十万": 10**5, "萬": 10**4, "万": 10**4, "億": 10**8, "亿": 10**8, "千": 10**3,
              "thousand": 10**3, "k": 10**3, "K": 10**3, "million": 10**6, "m": 10**6, "M": 10**6, "mn": 10**6,
              "billion": 10**9, "b": 10**9, "B": 10**9, "bn": 10**9}


@dataclass(frozen=True)
class _Amount:
    value: float  # in units of the span's magnitude (50 for 50萬)
    multiplier: int
    magnitude: str  # the magnitude text as written (萬), or ""
    start: int
    end: int


def _amounts(text: str) -> list[_Amount]:
    out: list[_Amount] = []
    for m in _NUMBER.finditer(text):
        raw = to_simplified(m.group("num"))
        mag = m.group("mag") or ""
        if mag == "" and not raw[0].isdigit() and ("万" in raw or "亿" in raw):
            # 四百五十万 / 一亿二千万: the numeral carries its own magnitude; show it in the largest one.
            total = parse_number(raw)
            if total is None:
                continue
            written = m.group("num")
            mag = next(ch for ch in written if ch in ("億亿" if "亿" in raw else "萬万"))
            mult = _MAGNITUDE[mag]
            out.append(_Amount(total / mult, mult, mag, m.start(), m.end()))
            continue
        value = parse_number(raw)
        if value is None:
            continue
        out.append(_Amount(value, _MAGNITUDE.get(mag, 1), mag, m.start(), m.end()))
    return out


def money_edges(value: float, mantissas: list[float]) -> tuple[float, float]:
    """The fixed bucket [low, high) holding ``value`` (in base currency units); 0 starts the first bucket."""
    if value < mantissas[0]:
        return 0.0, mantissas[0]
    exp = math.floor(math.log10(value))
    candidates = sorted(round(m * 10 ** e, 9) for e in (exp - 1, exp, exp + 1) for m in mantissas)
    low = max(c for c in candidates if c <= value)
    high = min(c for c in candidates if c > low)
    return low, high


def _fmt(value: float, separators: bool) -> str:
    rounded = round(value, 6)
    text = f"{rounded:,.6f}" if separators else f"{rounded:.6f}"
    return text.rstrip("0").rstrip(".")


def generalise_money(text: str, mantissas: list[float]) -> str:
    """50萬元 → 30-70萬元; 5,000至8,000元 → 3,000-10,000元; US$1.2 million → US$1-3 million."""
    amounts = _amounts(text)
    if not amounts:
        return "[amount]"
    last = amounts[-1]
    mult = last.multiplier
    values = [a.value * (a.multiplier if a.magnitude else mult) for a in amounts]
    if not all(math.isfinite(v) for v in values):  # an absurd stored figure is labelled, never a crash
        return "[amount]"
    low, _ = money_edges(min(values), mantissas)
    _, high = money_edges(max(values), mantissas)
    first = amounts[0]
    separators = "," in text
    space = " " if text[last.end - len(last.magnitude) - 1:last.end - len(last.magnitude)] == " " and last.magnitude else ""
    core = f"{_fmt(low / mult, separators)}-{_fmt(high / mult, separators)}{space}{last.magnitude}"
    return text[:first.start] + core + text[last.end:]


def band_percentage(text: str, edges: list[float]) -> str:
    """12.5% → 10%-20%; 百分之十二 → 10%-20%; 3個百分點 → 1-5個百分點; 三成 → 30%-50%."""
    amounts = _amounts(re.sub(r"百分之|個百分點|个百分点", " ", text))
    if not amounts:
        return "[percentage]"
    scale = 10.0 if re.search(r"\d\s*成|[一二两兩三四五六七八九十]成", text) else 1.0
    values = [a.value * a.multiplier * scale for a in amounts]
    low_v, high_v = min(values), max(values)
    low = max((e for e in edges if e <= low_v), default=edges[0])
    higher = [e for e in edges if e > high_v]
    sign = "±" if "±" in text else ""
    point = re.search(r"個百分點|个百分点|percentage points?|pp\b", text)
    if point:
        unit = point.group(0)
        sep = " " if unit.startswith(("percentage", "pp")) else ""
        return f"{sign}{_fmt(low, False)}-{_fmt(higher[0], False)}{sep}{unit}" if higher else \
            f"{sign}≥{_fmt(low, False)}{sep}{unit}"
    word = re.search(r"percent|per cent", text)
    mark = "％" if "％" in text else "%"
    if word:
        return f"{sign}{_fmt(low, False)}-{_fmt(higher[0], False)} {word.group(0)}" if higher else \
            f"{sign}over {_fmt(low, False)} {word.group(0)}"
    return f"{sign}{_fmt(low, False)}{mark}-{_fmt(higher[0], False)}{mark}" if higher else \
        f"{sign}≥{_fmt(low, False)}{mark}"


def mask_digits(text: str, keep_start: int, keep_end: int, char: str = "*") -> str:
    """Mask every digit but the first ``keep_start`` and last ``keep_end`` (a +86 / 0086 prefix stays)."""
    prefix = re.match(r"^\s*(?:\+\s?86|0086)[\s-]?", text)
    head = prefix.group(0) if prefix else ""
    body = text[len(head):]
    positions = [i for i, ch in enumerate(body) if ch.isdigit() or ch in "Xx"]
    visible = set(positions[:keep_start]) | set(positions[len(positions) - keep_end:] if keep_end else [])
    return head + "".join(char if i in positions and i not in visible else ch for i, ch in enumerate(body))


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
}


def remove_label(entity: str, text: str, script: str = "en") -> str:
    """A placeholder naming what was removed, in the script of the surrounding text (zh-Hant, zh-Hans, en)."""
    trad, simp, en = _LABELS.get(entity, ("〔已隱去〕", "〔已隐去〕", "[removed]"))
    return {"zh-Hant": trad, "zh-Hans": simp}.get(script, en)


def script_of(text: str) -> str:
    """zh-Hant when the text holds Traditional-only characters, zh-Hans for other Chinese, else en."""
    if not _HAN.search(text):
        return "en"
    return "zh-Hant" if to_simplified(text) != text else "zh-Hans"

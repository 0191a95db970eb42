"""Figures as Chinese and English business writing has them: one grammar the recognizers match with and the
operators parse with, so whatever is found can also be read (and never rendered half-read).

Forms: Arabic digits with thousands separators, full-width digits (normalised one to one for matching),
digits spaced out ("5 0萬元"), lower- and upper-case Chinese numerals (五十, 伍拾, 兩/倆), Chinese decimals
(三點五億), approximate amounts (50多萬, 五十餘萬; 約/近/逾 stay outside the span), magnitudes (萬, 億, 千萬;
W/w = 萬, K/k, M, million). Chinese numerals are read by ``cn2an``; this module only splits a figure into the
parts cn2an does not know (approximation marks, a decimal before a magnitude, spaces between digits).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple


from casebook.core.textnorm import to_simplified

# --- characters (Simplified: text is normalised before matching) -------------------------------------------------
CN_DIGITS = "零〇一二两俩三四五六七八九壹贰叁肆伍陆柒捌玖"
CN_UNITS = "十百千拾佰仟"
CN_BIG = "万亿"
_UPPER = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟俩〇", "一二三四五六七八九十百千两零")

#: Full-width digits, letters and figure punctuation to ASCII, one character for one (offsets stay valid).
FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                           **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
                           **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
                           "％": "%", "．": ".", "：": ":", "＋": "+", "－": "-", "\u3000": " ", "＄": "$",
                           "−": "-"})

# --- the grammar (regex source strings) --------------------------------------------------------------------------
#: Arabic: thousands separators, digits spaced out one by one, or plain; an optional decimal part.
ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d(?:[ ]\d)+(?![\d,])(?:\.\d+)?|\d+(?:\.\d+)?)"
#: Chinese numeral: starts with a digit (or 十/拾), may hold 万/亿 inside and a decimal part (点).
CHINESE = rf"(?:[{CN_DIGITS}十拾][{CN_DIGITS}{CN_UNITS}{CN_BIG}]*(?:点[{CN_DIGITS}]+)?)"
APPROX = r"(?:多|余|来|几)"
MAG_CN = r"(?:万亿|千万|百万|十万|万|亿|千)"
MAG_LATIN = r"(?:million|billion|thousand|mn|bn|[wWkKMB])(?![A-Za-z])"
#: One amount: a number, an optional approximation mark and an optional magnitude.
AMOUNT = rf"(?:{ARABIC}[ ]?{APPROX}?[ ]?(?:{MAG_CN}|{MAG_LATIN})?|{CHINESE}{APPROX}?{MAG_CN}?)"
SEP = r"(?:[ ]?(?:-|~|～|–|—|至|到)[ ]?|\s(?:to|-)\s)"
RANGE = rf"{AMOUNT}(?:{SEP}{AMOUNT})?"

MAGNITUDES = {"万亿": 10**12, "千万": 10**7, "百万": 10**6, "十万": 10**5, "万": 10**4, "亿": 10**8, "千": 10**3,
              "w": 10**4, "W": 10**4, "k": 10**3, "K": 10**3, "thousand": 10**3, "M": 10**6, "mn": 10**6,
              "million": 10**6, "B": 10**9, "bn": 10**9, "billion": 10**9}
_AMOUNT = re.compile(
    rf"(?P<num>{ARABIC}|{CHINESE})(?P<approx>[ ]?{APPROX})?(?:[ ]?(?P<mag>{MAG_CN}|{MAG_LATIN}))?")


def normalise(text: str) -> str:
    """Full-width figures to ASCII, one character for one (script conversion is the caller's)."""
    return text.translate(FULLWIDTH)


@lru_cache(maxsize=4096)
def parse_chinese_numeral(text: str) -> float | None:
    """五十 -> 50, 伍拾萬 -> 500000, 三点五亿 -> 350000000, 两千 -> 2000, 十五点五 -> 15.5; None if unreadable."""
    s = text.translate(_UPPER)
    if not s or any(ch not in CN_DIGITS + CN_UNITS + CN_BIG + "点两零" for ch in s):
        return None
    head, mult = s, 1
    decimal = re.fullmatch(r"(.*点[零一二两三四五六七八九]+)((?:万|亿|千万|百万|十万|千)*)", s)
    if decimal and decimal.group(2):
        head = decimal.group(1)
        for ch in decimal.group(2):
            mult *= {"万": 10**4, "亿": 10**8, "千": 10**3, "百": 100, "十": 10}[ch]
    fast = standard_numeral(head)
    if fast is not None:
        return fast * mult
    try:
        import cn2an   # imported on first use: a second to import, and most callers never read a Chinese numeral

        return float(cn2an.cn2an(head, "smart")) * mult
    except (ValueError, KeyError, IndexError, TypeError):
        digits = head.translate(str.maketrans("零一二两三四五六七八九", "01223456789"))
        return float(digits) * mult if digits.isdigit() else None


_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}


def _section(s: str) -> int | None:
    """A numeral from 1 to 9,999 in the standard written form (一千零五, 三百二十, 十五), else None."""
    value, digit, last, zero = 0, None, 10_000, False
    for i, ch in enumerate(s):
        if ch == "零" or ch == "〇":
            if digit is not None or zero or i == 0 or last == 10:
                return None                                   # 零 stands for a skipped unit, between two
            zero = True
        elif ch in _DIGIT:
            if digit is not None:
                return None                                   # 二零二三, 三五: not the standard form
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            unit = _UNIT[ch]
            if unit >= last or (digit is None and not (i == 0 and unit == 10)) or (zero and unit * 10 == last):
                return None
            value += (1 if digit is None else digit) * unit
            digit, last, zero = None, unit, False
        else:
            return None
    if zero and digit is None:
        return None
    if digit is not None:
        if last > 10 and last != 10_000 and not zero:
            return None                                       # 三千五 (colloquial 3,500): cn2an decides
        value += digit
    return value if s else None


def _below(s: str, big: str, part: Any) -> int | None:
    """``s`` read as <part>big<part> (big = 万 or 亿, 10**4 or 10**8), the lower part written in full."""
    if big not in s:
        return part(s)
    high, _, low = s.partition(big)
    size = 10_000 if big == "万" else 100_000_000
    top = part(high)
    if top is None or big in low:
        return None
    if not low:
        return top * size
    rest = part(low[1:]) if low[0] == "零" else part(low)
    if rest is None or (low[0] != "零" and rest * 10 < size) or (low[0] == "零" and rest * 10 >= size):
        return None                                           # 三万五 (colloquial 35,000), 一亿零三千万
    return top * size + rest


def standard_numeral(text: str) -> float | None:
    """A Chinese numeral in the standard written form (Simplified, lower case: 五十, 一百零五, 四百五十万, 一亿二千万,
    三点五), read without cn2an, which costs ~100 µs a call where this costs ~3 (a new version's figures are read
    once each when it is rendered). None for anything else, which cn2an then reads;
    ``tests/test_redaction_numerals.py`` holds every value this returns to cn2an's."""
    whole, point, fraction = text.partition("点")
    if point and (not fraction or any(ch not in _DIGIT for ch in fraction)):
        return None
    if whole in ("零", "〇"):
        value: int | None = 0
    else:
        value = _below(whole, "亿", lambda part: _below(part, "万", _section)) if whole else None
    if value is None:
        return None
    if not point:
        return float(value)
    return float(f"{value}.{''.join(str(_DIGIT[ch]) for ch in fraction)}")


_DIGIT_GAP = re.compile(r"(?<=\d)[ ,](?=\d)")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")


def parse_number(text: str) -> float | None:
    """An Arabic number (separators, spaced digits, full-width) or a Chinese numeral (read by cn2an)."""
    text = normalise(text).strip()
    arabic = _DIGIT_GAP.sub("", text) if " " in text or "," in text else text
    if _PLAIN.fullmatch(arabic):
        return float(arabic)
    return parse_chinese_numeral(text)


class Amount(NamedTuple):
    """One number read from a span: ``value`` in units of the written magnitude (50 for 50萬). A named tuple:
    one is made for every number of every span rendered the first time, and a frozen dataclass costs more."""

    value: float
    multiplier: int
    magnitude: str      # the magnitude as written (萬, W, million), or ""
    approximate: bool   # 多/余: "more than" the value
    start: int
    end: int

    @property
    def total(self) -> float:
        return self.value * self.multiplier


def amounts(text: str) -> list[Amount]:
    """Every readable number in ``text`` (a detected span), with offsets into it."""
    norm = normalise(to_simplified(text))
    out: list[Amount] = []
    for m in _AMOUNT.finditer(norm):
        raw, mag = m.group("num"), m.group("mag") or ""
        approximate = bool(m.group("approx"))
        written_mag = text[m.start("mag"):m.end("mag")] if mag else ""
        if not mag and not raw[0].isdigit() and ("万" in raw or "亿" in raw):
            # 四百五十萬 / 一億二千萬: the numeral carries its own magnitude; show it in the largest one.
            total = parse_chinese_numeral(raw)
            if total is None:
                continue
            big = "亿" if "亿" in raw else "万"
            pos = m.start("num") + raw.index(big)
            out.append(Amount(total / MAGNITUDES[big], MAGNITUDES[big], text[pos], approximate, m.start(), m.end()))
            continue
        value = parse_number(raw)
        if value is None:
            continue
        out.append(Amount(value, MAGNITUDES.get(mag, 1), written_mag, approximate, m.start(), m.end()))
    return out


def format_number(value: float) -> str:
    """Shortest plain form: 50, 2.5, 1200 (no trailing zeros, no separators)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


#: A character an amount can start with (each one alone is an amount): finding it is a scan, not a regex search.
_STARTS = re.compile(rf"[\d{CN_DIGITS}十拾]")


def one_arabic_amount(text: str) -> Amount | None:
    """The fast path of ``amounts`` for the commonest span, one Arabic or full-width number without an
    approximation mark (¥6,820,000, 25.2萬元, $750K): the same Amount ``amounts`` gives, or None when the span
    is anything else (Chinese numerals, ranges, 多/余) and must take the general path."""
    norm = text if text.isascii() else normalise(to_simplified(text))
    first = _STARTS.search(norm)              # an amount starts at the first character one can start with
    if first is None or not first.group().isdigit():
        return None
    m = _AMOUNT.match(norm, first.start())
    if m.start("approx") >= 0 or _STARTS.search(norm, m.end()):
        return None
    mag = m.group("mag")
    return Amount(float(m.group("num").replace(",", "").replace(" ", "")), MAGNITUDES.get(mag, 1) if mag else 1,
                  text[m.start("mag"):m.end("mag")] if mag else "", False, m.start(), m.end())

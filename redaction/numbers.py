"""Read amounts as people write them: Arabic or Chinese numerals, 万/亿 and K/M magnitudes, thousands separators."""

from __future__ import annotations

import re

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL = {"十": 10, "百": 100, "千": 1000}
CN_LARGE = {"万": 10_000, "亿": 100_000_000}
MAGNITUDES = {"万亿": 10**12, "千万": 10**7, "百万": 10**6, "十万": 10**5, "万": 10**4, "亿": 10**8, "千": 10**3,
              "百": 100, "k": 10**3, "K": 10**3, "thousand": 10**3, "m": 10**6, "M": 10**6, "mn": 10**6,
              "million": 10**6, "b": 10**9, "B": 10**9, "bn": 10**9, "billion": 10**9}


def parse_chinese_numeral(text: str) -> float | None:
    """三百 -> 300, 四百五十万 -> 4_500_000, 一亿二千万 -> 120_000_000, 两千 -> 2000; None if not a numeral."""
    if not text or any(ch not in CN_DIGITS and ch not in CN_SMALL and ch not in CN_LARGE for ch in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch] if digit is None else digit * 10 + CN_DIGITS[ch]
        elif ch in CN_SMALL:
            section += (1 if digit is None else digit) * CN_SMALL[ch]
            digit = None
        else:
            section += digit or 0
            if section == 0 and ch == "万" and total:  # 一亿万 is not a thing; keep it simple
                section = 1
            total = (total + section) * CN_LARGE[ch] if CN_LARGE[ch] > 10_000 else total + section * CN_LARGE[ch]
            section, digit = 0, None
    return float(total + section + (digit or 0))


_ARABIC = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def parse_number(text: str) -> float | None:
    """An Arabic number with optional separators, or a Chinese numeral."""
    text = text.strip()
    if _ARABIC.fullmatch(text):
        return float(text.replace(",", ""))
    return parse_chinese_numeral(text)


def format_number(value: float) -> str:
    """Shortest plain form: 50, 2.5, 1200 (no trailing zeros, no separators)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")

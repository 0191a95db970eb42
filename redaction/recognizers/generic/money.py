"""MONEY: amounts with a currency or money unit, or a bare amount with a magnitude (万, 亿, W, K, M) that the
context makes money. The figure grammar (numerals in every form) lives in ``redaction.numbers``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.lexicon import COUNT_UNITS, MONEY_CONTEXT, SENTENCE_END
from redaction.numbers import CN_DIGITS, MAG_CN, MAG_LATIN, RANGE
from redaction.recognizers.base import CasebookRecognizer

PRE = r"(?:人民币|RMB|CNY|USD|US\$|HK\$|HKD|NT\$|TWD|EUR|GBP|JPY|S\$|¥|￥|\$|€|£)"
SUF = (r"(?:元人民币|万元|亿元|千元|美元|美金|美刀|港元|港币|欧元|英镑|日元|新台币|台币|块钱|元整|圆整|元|圆|"
       r"RMB|CNY|USD|HKD|EUR|dollars?|yuan|bucks)")
#: Not inside a longer figure or word: no digit, separator or Latin letter right before.
START = r"(?<![\d.,A-Za-z])"

WITH_PREFIX = re.compile(rf"{PRE}[ ]?{RANGE}(?:[ ]?{SUF})?")
WITH_SUFFIX = re.compile(rf"{START}{RANGE}[ ]?{SUF}(?![A-Za-z])")
#: A bare amount must end in a magnitude (50万, 2.3亿, 50W, 8k): a plain number needs a currency or unit.
BARE = re.compile(rf"{START}{RANGE}(?![元圆A-Za-z])")
BARE_NEEDS = frozenset("万亿千wWkKMBn")
MAGNITUDE_END = re.compile(rf"(?:{MAG_CN}|{MAG_LATIN})$")
CONTEXT = re.compile("|".join(map(re.escape, MONEY_CONTEXT)) + "|(?<!消)费", re.I)
COUNT_AFTER = re.compile("|".join(map(re.escape, COUNT_UNITS)))
HAS_FIGURE = re.compile(rf"[\d{CN_DIGITS}十拾]")


class MoneyRecognizer(CasebookRecognizer):
    """Scores: 0.85 with a currency or money unit; 0.6 for a bare amount with money words nearby."""

    ENTITY = "MONEY"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        for pattern in (WITH_PREFIX, WITH_SUFFIX):
            for m in pattern.finditer(text):
                start, end = m.start(), m.end()
                if not HAS_FIGURE.search(m.group()) or any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                yield start, end, 0.85
        if BARE_NEEDS.isdisjoint(text):
            return
        for m in BARE.finditer(text):
            start, end = m.start(), m.end()
            if any(s < end and start < e for s, e in taken) or not MAGNITUDE_END.search(m.group()):
                continue
            if COUNT_AFTER.match(text, end):          # 2.3亿次, 12万条: counts, not money
                continue
            window = text[max(0, start - 16):start]
            for mark in SENTENCE_END:
                window = window.rsplit(mark, 1)[-1]
            if CONTEXT.search(window):
                taken.append((start, end))
                yield start, end, 0.6

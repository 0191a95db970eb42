"""MONEY: amounts with a currency, a money unit, or a bare 万/亿 amount that the context makes money."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.lexicon import COUNT_UNITS, MONEY_CONTEXT, SENTENCE_END
from redaction.recognizers.base import CasebookRecognizer

NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
CN = r"(?:[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*)"
MAG = r"(?:万亿|千万|百万|十万|万|亿|千)"
EN_MAG = r"(?:\s?(?:million|billion|thousand|mn|bn|[KkMB])\b)"
AMOUNT = rf"(?:{NUM}\s?{MAG}?|{CN}{MAG}?)"
RANGE = rf"{AMOUNT}(?:\s?(?:-|~|～|–|—|至|到)\s?{AMOUNT})?"
PRE = r"(?:人民币|RMB|CNY|USD|US\$|HK\$|HKD|NT\$|TWD|EUR|GBP|JPY|S\$|¥|￥|\$|€|£)"
SUF = r"(?:元人民币|万元|亿元|千元|美元|美金|港元|港币|欧元|英镑|日元|块钱|元|RMB|CNY|USD|HKD|EUR|dollars?|yuan)"

WITH_PREFIX = re.compile(rf"{PRE}\s?{RANGE}(?:{EN_MAG})?(?:\s?{SUF})?")
WITH_SUFFIX = re.compile(rf"(?<![\d.,]){RANGE}(?:{EN_MAG})?\s?{SUF}")
BARE = re.compile(rf"(?<![\d.,]){NUM}\s?(?:-|~|～|至|到)?\s?(?:{NUM})?\s?(?:万亿|亿|千万|百万|万)(?!元)|{CN}(?:万亿|亿|千万|百万|万)(?!元)")
CONTEXT = re.compile("|".join(map(re.escape, MONEY_CONTEXT)) + "|(?<!消)费")
COUNT_AFTER = re.compile("|".join(map(re.escape, COUNT_UNITS)))


class MoneyRecognizer(CasebookRecognizer):
    """Scores: 0.85 with a currency or money unit; 0.6 for a bare 万/亿 amount with money words nearby."""

    ENTITY = "MONEY"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        for pattern in (WITH_PREFIX, WITH_SUFFIX):
            for m in pattern.finditer(text):
                start, end = m.start(), m.end()
                if not any(ch.isdigit() or ch in "一二两三四五六七八九十" for ch in m.group()):
                    continue
                if any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                yield start, end, 0.85
        if "万" not in text and "亿" not in text:             # a bare amount needs one of them
            return
        for m in BARE.finditer(text):
            start, end = m.start(), m.end()
            if any(s < end and start < e for s, e in taken):
                continue
            if COUNT_AFTER.match(text, end):          # 2.3亿次, 12万条: counts, not money
                continue
            window = text[max(0, start - 16):start]
            for mark in SENTENCE_END:
                window = window.rsplit(mark, 1)[-1]
            if CONTEXT.search(window):
                taken.append((start, end))
                yield start, end, 0.6

"""PERCENTAGE: 12%, 12％, 10%-15%, ±3%, 百分之十五, 3个百分点, 12 percent."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.recognizers.base import CasebookRecognizer

NUM = r"\d+(?:\.\d+)?"
CN = r"[零〇一二两三四五六七八九十百点]+"
PATTERNS = [
    re.compile(rf"(?:[±+\-]\s?)?{NUM}\s?[%％]?\s?(?:-|~|～|–|—|至|到)\s?{NUM}\s?[%％]"),
    re.compile(rf"(?:[±+]\s?)?(?<![\d.]){NUM}\s?[%％]"),
    re.compile(rf"百分之(?:{NUM}|{CN})(?:\s?(?:至|到|-)\s?(?:百分之)?(?:{NUM}|{CN}))?"),
    re.compile(rf"(?:{NUM}|{CN})\s?个百分点"),
    re.compile(rf"(?<![A-Za-z0-9.]){NUM}\s?(?:-|to)?\s?(?:{NUM}\s?)?(?:percent|per cent|percentage points?)\b", re.I),
    re.compile(r"(?<![零〇一二两三四五六七八九十百千万亿])[一二三四五六七八九]成(?:[一二三四五六七八九](?![成万千百]))?(?![本功为立果员交绩长熟品型就年人不])"),
]


class PercentageRecognizer(CasebookRecognizer):
    ENTITY = "PERCENTAGE"
    NEEDS = frozenset("%％百成percentPERCENT")

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        for pattern in PATTERNS:
            for m in pattern.finditer(text):
                start, end = m.start(), m.end()
                while start < end and text[start] in " +":
                    start += 1
                if any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                yield start, end, 0.85

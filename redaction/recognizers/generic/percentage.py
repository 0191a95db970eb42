"""PERCENTAGE: 12%, 12％, 10%-15%, ±3%, 百分之十五, 3个百分点, 12 percent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from redaction.recognizers.base import CasebookRecognizer

NUM = r"\d+(?:\.\d+)?"
CN = r"[零〇一二两三四五六七八九十百点]+"
SEP = r"(?:-|~|～|–|—|至|到)"


@dataclass(frozen=True)
class Rule:
    """A pattern, the literals one of which each of its matches holds (a text without them skips the pattern:
    the regex engine would otherwise try it at every position), and the sign characters that may stand,
    with one optional space, right before a match. Signs are added in Python rather than as an optional
    group at the pattern's start, so that the pattern starts with a digit and the engine skips to digits in C."""

    needles: tuple[str, ...]
    pattern: re.Pattern[str]
    signs: str = ""

    def finditer(self, text: str) -> Iterator[tuple[int, int]]:
        previous_end = 0
        for m in self.pattern.finditer(text):
            start = m.start()
            if self.signs:
                if start - 1 >= previous_end and text[start - 1] in self.signs:
                    start -= 1
                elif start - 2 >= previous_end and text[start - 1].isspace() and text[start - 2] in self.signs:
                    start -= 2
            previous_end = m.end()
            yield start, m.end()


RULES = (
    Rule(("%", "％"), re.compile(rf"{NUM}\s?[%％]?\s?{SEP}\s?{NUM}\s?[%％]"), signs="±+-"),      # 10%-15%, ±3-5%
    Rule(("%", "％"), re.compile(r"\d(?<![\d.]\d)\d*(?:\.\d+)?\s?[%％]"), signs="±+"),          # 12%, ±3%
    Rule(("百分之",), re.compile(rf"百分之(?:{NUM}|{CN})(?:\s?(?:至|到|-)\s?(?:百分之)?(?:{NUM}|{CN}))?")),
    Rule(("个百分点",), re.compile(rf"(?:{NUM}|{CN})\s?个百分点")),
    Rule(("cent",), re.compile(rf"(?<![A-Za-z0-9.]){NUM}\s?(?:-|to)?\s?(?:{NUM}\s?)?"
                               r"(?:percent|per cent|percentage points?)\b", re.I)),
    Rule(("成",), re.compile(r"(?<![零〇一二两三四五六七八九十百千万亿])[一二三四五六七八九]成(?:[一二三四五六七八九](?![成万千百]))?"
                             r"(?![本功为立果员交绩长熟品型就年人不])")),
)


class PercentageRecognizer(CasebookRecognizer):
    ENTITY = "PERCENTAGE"
    NEEDS = frozenset("%％百成percentPERCENT")

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        lowered = text.lower()
        for rule in RULES:
            if not any(needle in lowered for needle in rule.needles):
                continue
            for start, end in rule.finditer(text):
                while start < end and text[start] in " +":
                    start += 1
                if any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                yield start, end, 0.85

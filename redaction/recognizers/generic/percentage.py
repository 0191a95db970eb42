"""PERCENTAGE: relative figures. 12%, 12％, -12%, 10%-15%, ±3%, 5‰, 百分之十五點五, 千分之五, 3个百分点, 两成半,
三分之一, 12 percent, 50 bps, and ratios next to their name (ROI 1:3.5, 投产比 3.5)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from redaction.numbers import CHINESE, CN_DIGITS
from redaction.recognizers.base import CasebookRecognizer

NUM = r"\d+(?:\.\d+)?"
CN = CHINESE
ANY = rf"(?:{NUM}|{CN})"
SEP = r"(?:-|~|～|–|—|至|到)"
#: A minus is a sign only where it cannot be a range dash or part of a code (after a digit, Latin letter, % or .).
_MINUS_OK = re.compile(r"[0-9A-Za-z%‰.]")


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
            for width in (1, 2):
                at = start - width
                if at < previous_end or (width == 2 and not text[start - 1].isspace()):
                    continue
                sign = text[at]
                if sign in self.signs and (sign != "-" or at == 0 or not _MINUS_OK.match(text[at - 1])):
                    start = at
                    break
            previous_end = m.end()
            yield start, m.end()


RULES = (
    Rule(("%", "‰"), re.compile(rf"{NUM}\s?[%‰]?\s?{SEP}\s?{NUM}\s?[%‰]"), signs="±+-"),      # 10%-15%, ±3-5%
    Rule(("%", "‰"), re.compile(r"\d(?<![\d.]\d)\d*(?:\.\d+)?\s?[%‰]"), signs="±+-"),          # 12%, -3%, 5‰
    Rule(("%", "‰"), re.compile(r"\d(?<![\d.]\d)(?: \d)+(?:\.\d+)?\s?[%‰]"), signs="±+-"),     # 1 2 %
    Rule(("百分之", "千分之", "万分之"),
         re.compile(rf"[百千万]分之{ANY}(?:\s?{SEP}\s?(?:[百千万]分之)?{ANY})?")),                 # 百分之十五点五
    Rule(("个百分点",), re.compile(rf"{ANY}(?:\s?{SEP}\s?{ANY})?\s?个百分点")),
    Rule(("cent", "pct", "bps", "basis point", "pp"),
         re.compile(rf"(?<![A-Za-z0-9.]){NUM}\s?(?:(?:-|to)\s?{NUM}\s?)?"
                    r"(?:percent|per cent|pct|percentage points?|basis points?|bps|pp)\b", re.I), signs="±+-"),
    Rule(("成",), re.compile(rf"(?<![{CN_DIGITS}十百千万亿])[一二两三四五六七八九]成(?:半|[一二三四五六七八九](?![成万千百]))?"
                             r"(?![本功为立果员交绩长熟品型就年人不交都])")),                       # 三成, 两成半
    Rule(("分之",), re.compile(r"(?<![百千万])[一二两三四五六七八九十]+分之[一二三四五六七八九十]+")),      # 三分之一
    Rule(("roi", "roas", "产出比", "投产比", "ratio", "回报比"),
         re.compile(r"(?:(?<![A-Za-z])(?:ROI|ROAS|ratio)|投入产出比|产出比|投产比|回报比)\s?(?:为|是|达到|达|约|of|at|=|:)?\s?"
                    rf"(?P<figure>{NUM}\s?:\s?{NUM}|{NUM}(?![\d.]|\s?[%‰]|\s?:\s?\d|\s?(?:倍|x|X)?\s?[万亿]))", re.I)),
)
RATIO = RULES[-1]
NEEDS = frozenset("%％‰百千万萬成分pPcCbBrR比")


class PercentageRecognizer(CasebookRecognizer):
    ENTITY = "PERCENTAGE"
    NEEDS = NEEDS

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        lowered = text.lower()
        for rule in RULES:
            if not any(needle in lowered for needle in rule.needles):
                continue
            if rule is RATIO:
                spans: Iterable[tuple[int, int]] = (m.span("figure") for m in rule.pattern.finditer(text))
            else:
                spans = rule.finditer(text)
            for start, end in spans:
                while start < end and text[start] in " +":
                    start += 1
                if any(s < end and start < e for s, e in taken):
                    continue
                taken.append((start, end))
                yield start, end, 0.85

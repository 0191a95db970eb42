"""Score the analyzer on a labelled set: per-type precision and recall (span match: same type, IoU >= 0.5)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from redaction.analyzer import Finding

CODES = {"M": "MONEY", "P": "PERCENTAGE", "N": "PERSON", "T": "PHONE_NUMBER", "E": "EMAIL_ADDRESS",
         "I": "CN_ID_CARD", "B": "BANK_CARD", "S": "STRATEGY"}
MARK = re.compile(r"\[\[([A-Z])\|(.+?)\]\]")


@dataclass
class Sample:
    script: str
    text: str
    spans: list[tuple[int, int, str]]


def parse_line(line: str) -> Sample:
    """``script|text with [[T|span]] marks`` -> plain text plus gold spans."""
    script, _, marked = line.partition("|")
    text, spans, pos = [], [], 0
    for m in MARK.finditer(marked):
        text.append(marked[pos:m.start()])
        start = sum(len(t) for t in text)
        text.append(m.group(2))
        spans.append((start, start + len(m.group(2)), CODES[m.group(1)]))
        pos = m.end()
    text.append(marked[pos:])
    return Sample(script, "".join(text), spans)


def load(path: Path) -> list[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_line(line) for line in lines if line.strip() and not line.startswith("#")]


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(samples: Iterable[Sample], detect: Callable[[str], list[Finding]]) -> dict[str, Score]:
    scores: dict[str, Score] = defaultdict(Score)
    for sample in samples:
        found = [(f.start, f.end, f.entity_type) for f in detect(sample.text)]
        matched: set[int] = set()
        for gs, ge, gt in sample.spans:
            hit = next((i for i, (fs, fe, ft) in enumerate(found)
                        if i not in matched and ft == gt and _iou((gs, ge), (fs, fe)) >= 0.5), None)
            if hit is None:
                scores[gt].fn += 1
                scores[gt].misses.append(f"{sample.text[gs:ge]!r} in {sample.text!r}")
            else:
                matched.add(hit)
                scores[gt].tp += 1
        for i, (fs, fe, ft) in enumerate(found):
            if i not in matched:
                scores[ft].fp += 1
                scores[ft].false_alarms.append(f"{sample.text[fs:fe]!r} in {sample.text!r}")
    return dict(scores)

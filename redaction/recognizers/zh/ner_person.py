"""PERSON (Chinese, no cue needed): names in lists of participants, the chair of a meeting, a name before a phone
number. jieba proposes name-shaped words, Baidu LAC (``redaction.ner``) confirms them."""

from __future__ import annotations

from collections.abc import Iterable

from redaction import ner
from redaction.recognizers.base import CasebookRecognizer

#: Below the cue rules (0.7-0.8, which also know titles and honorifics) and above the policy threshold.
SCORE = 0.65


class LacPersonRecognizer(CasebookRecognizer):
    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        for start, end in ner.persons(text):
            yield start, end, SCORE

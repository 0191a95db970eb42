"""PERSON (Chinese, no cue needed): names in lists of participants, the chair of a meeting, a name before a phone
number. jieba's dictionary proposes where a name may start, Baidu LAC (``redaction.ner``) confirms it; names the
cue rules found (``redaction.recognizers.zh.person.people``) are not read again."""

from __future__ import annotations

from collections.abc import Iterable

from redaction import ner
from redaction.recognizers.base import CasebookRecognizer
from redaction.recognizers.zh.person import people

#: Below the cue rules (0.7-0.8, which also know titles and honorifics) and above the policy threshold.
SCORE = 0.65


class LacPersonRecognizer(CasebookRecognizer):
    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        for start, end in ner.persons(text, ((s, e) for s, e, _ in people(text))):
            yield start, end, SCORE

"""PHONE_NUMBER: Chinese mobiles (+86, spaces, dashes), landlines with area code, 400/800 lines, international."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.recognizers.base import DIGITS, CasebookRecognizer

PATTERNS = [
    re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"),          # CN mobile
    re.compile(r"(?<![\d-])(?:\(0\d{2,3}\)\s?|0\d{2,3}-)(?:\d{7,8}|\d{3,4}-\d{4})(?:-\d{1,5})?(?!\d)"),  # CN landline
    re.compile(r"(?<![\d-])[48]00[-\s]?\d{3}[-\s]?\d{4}(?!\d)"),                                 # 400 / 800 lines
    re.compile(r"(?<![A-Za-z0-9+])\+(?!86)\d{1,3}(?:[\s-]?\(?\d{1,4}\)?)(?:[\s-]?\d{2,4}){1,3}(?!\d)"),  # international
    re.compile(r"(?<![\d-])\(\d{3}\)\s?\d{3}-\d{4}(?!\d)"),                                      # (415) 555-0132
]


class CasebookPhoneRecognizer(CasebookRecognizer):
    ENTITY = "PHONE_NUMBER"
    NEEDS = DIGITS

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        taken: list[tuple[int, int]] = []
        for pattern in PATTERNS:
            for m in pattern.finditer(text):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                yield m.start(), m.end(), 0.85

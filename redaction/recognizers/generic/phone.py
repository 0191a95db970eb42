"""PHONE_NUMBER: mainland mobiles and landlines (area code, extension, +86/0086), 400/800 lines, Hong Kong,
Taiwan, US/Canada (NANP) and other international numbers written with their country code.

Every pattern is anchored so that a number inside a longer run of digits or dashes (order numbers, dates,
model numbers) is not a phone: ``(?<![\\d-])`` before and ``(?![\\d-])`` after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.recognizers.base import DIGITS, CasebookRecognizer

S = r"[\s-]?"                                    # one optional space or dash between groups
EXT = r"(?:\s?(?:-|转|轉|ext\.?|x|分机)\s?\d{1,5})?"   # an extension
PATTERNS = [
    # Mainland mobile: 1[3-9]x xxxx xxxx, +86 / 0086 / (+86) in front.
    re.compile(rf"(?<![\d+])(?:(?:\(?\+86\)?|0086){S})?1[3-9]\d(?:{S}\d{{4}}){{2}}(?![\d-])"),
    # Mainland landline: (0xx) / 0xx- / +86 xx area code, 7-8 digit number, optional extension.
    re.compile(rf"(?<![\d-])(?:\(0\d{{2,3}}\)\s?|0\d{{2,3}}[-\s]|(?:\+86|0086){S}\(?[1-9]\d{{1,2}}\)?{S})"
               rf"(?:\d{{7,8}}|\d{{3,4}}[-\s]\d{{4}}){EXT}(?![\d-])"),
    # 400 / 800 service lines.
    re.compile(r"(?<![\d-])[48]00[-\s]?\d{3}[-\s]?\d{4}(?![\d-])"),
    # Hong Kong (+852) and Macau (+853): eight digits.
    re.compile(rf"(?<![\d+])(?:\(?\+85[23]\)?|\(85[23]\)|0085[23]){S}\d{{4}}{S}\d{{4}}(?![\d-])"),
    # Taiwan: +886 (area code without its 0) or a domestic 0x-xxxx-xxxx landline / 09xx-xxx-xxx mobile.
    re.compile(rf"(?<![\d+])(?:\(?\+886\)?|00886){S}\(?\d{{1,2}}\)?{S}\d{{3,4}}{S}\d{{3,4}}(?![\d-])"),
    re.compile(r"(?<![\d-])(?:\(0\d\)\s?|0\d-)\d{4}-\d{4}(?![\d-])"),
    re.compile(r"(?<![\d-])09\d{2}-\d{3}-\d{3}(?![\d-])"),
    # US / Canada: +1 and 415-555-0134, (415) 555-0134, 415.555.0134.
    re.compile(rf"(?<![\d+.-])(?:\+1{S}|1-)?(?:\([2-9]\d{{2}}\)\s?|[2-9]\d{{2}}[-.\s])[2-9]\d{{2}}[-.\s]\d{{4}}{EXT}"
               r"(?![\d.-])"),
    # Any other country code: +44 20 7946 0958, +65 6123 4567.
    re.compile(r"(?<![A-Za-z0-9+])\+(?!86|85[23]|886|1\b)\d{1,3}(?:[\s-]?\(?\d{1,4}\)?)(?:[\s-]?\d{2,4}){1,3}(?!\d)"),
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

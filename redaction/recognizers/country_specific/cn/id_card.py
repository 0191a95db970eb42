"""CN_ID_CARD: 18-character resident identity number with a valid birth date and ISO 7064 check digit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from redaction.recognizers.base import DIGITS, CasebookRecognizer

#: 17 digits and a check character, not inside a longer run; the lookbehind follows the first digit so that the
#: pattern starts with a digit (the regex engine then skips to digits in C).
ID = re.compile(r"\d(?<![\dA-Za-z]\d)\d{16}[\dXx](?![\dA-Za-z])")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def valid_id_card(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not 1900 <= int(value[6:10]) <= 2100:
        return False
    return CHECK[sum(int(d) * w for d, w in zip(value[:17], WEIGHTS)) % 11] == value[17].upper()


class ChineseIdCardRecognizer(CasebookRecognizer):
    ENTITY = "CN_ID_CARD"
    NEEDS = DIGITS

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in ID.finditer(text):
            if valid_id_card(m.group()):
                yield m.start(), m.end(), 0.95

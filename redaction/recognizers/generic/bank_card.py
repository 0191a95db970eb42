"""BANK_CARD: 15-19 digits (groups of 4 allowed) with a valid Luhn check digit and a card-network prefix."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.recognizers.base import DIGITS, CasebookRecognizer
from redaction.recognizers.country_specific.cn.id_card import valid_id_card

#: Groups of four digits, not inside a longer number. The "not after a digit or dash" test sits after the first
#: digit (``(?<![\d-]\d)``) so that the pattern starts with a digit and the regex engine skips to digits in C.
CARD = re.compile(r"\d(?<![\d-]\d)\d{3}[ -]?(?:\d{4}[ -]?){2,3}\d{3,4}(?![\d-])")
PREFIXES = ("62", "4", "51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27", "34", "37", "35", "60", "65")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class BankCardRecognizer(CasebookRecognizer):
    ENTITY = "BANK_CARD"
    NEEDS = DIGITS

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 15 <= len(digits) <= 19 and digits.startswith(PREFIXES) and luhn_ok(digits) \
                    and not valid_id_card(digits):
                yield m.start(), m.end(), 0.9

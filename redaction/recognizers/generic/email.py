"""EMAIL_ADDRESS."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redaction.recognizers.base import CasebookRecognizer

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")


class CasebookEmailRecognizer(CasebookRecognizer):
    ENTITY = "EMAIL_ADDRESS"
    NEEDS = frozenset("@")

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        for m in EMAIL.finditer(text):
            yield m.start(), m.end(), 0.95

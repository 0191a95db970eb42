"""Script normalisation for matching: Traditional -> Simplified, character by character so offsets stay valid.

Used where it helps detection (absolute terms, recognizers); never applied to what is stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from opencc import OpenCC

_t2s = OpenCC("t2s")


@lru_cache(maxsize=65536)
def _char(ch: str) -> str:
    converted = _t2s.convert(ch)
    return converted if len(converted) == 1 else ch


def to_simplified(text: str) -> str:
    """Same length as ``text``; position i of the result is position i of the input, converted."""
    if text.isascii():
        return text
    return "".join(_char(ch) for ch in text)


def trigrams(text: str) -> set[str]:
    """Character trigrams of the Simplified text without whitespace: the similarity measure behind the
    near-duplicate pre-check and "similar cases"."""
    text = re.sub(r"\s+", "", to_simplified(text))
    return {text[i:i + 3] for i in range(max(len(text) - 2, 0))}

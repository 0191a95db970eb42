"""Script normalisation for matching: Traditional -> Simplified, character by character so offsets stay valid.

Used where it helps detection (absolute terms, recognizers); never applied to what is stored.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from functools import lru_cache
from typing import Any

#: Code points OpenCC's t2s may change: CJK radicals to Unified Ideographs, compatibility ideographs, and the
#: supplementary ideograph planes. Everything else maps to itself.
_CJK_RANGES = ((0x2E80, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2FA20))


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


class _LazyT2S(dict):
    """The one-to-one t2s table for ``str.translate``, filled as characters are first met: each ideograph is
    converted on its own (so no phrase rule spans two), a conversion that is not one character leaves it as it
    is. The same mapping as ``_table()`` character for character, without converting all 93,000 ideographs
    up front (a second of every command's start-up, for the few hundred characters a policy holds)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if any(lo <= code < hi for lo, hi in _CJK_RANGES):
            converted = _t2s().convert(ch)
            if len(converted) == 1:
                ch = converted
        self[code] = ch
        return ch


_LAZY = _LazyT2S()


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """One-to-one t2s table of every changed ideograph. Built once by converting every ideograph on its own line
    (so no phrase rule can span two of them); conversions that are not one character are left out."""
    from opencc import OpenCC

    chars = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi)]
    converted = OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):                     # never seen; per-character conversion is the safe path
        t2s = OpenCC("t2s")
        converted = [t2s.convert(ch) for ch in chars]
    return {ord(a): b for a, b in zip(chars, converted) if a != b and len(b) == 1}


def to_simplified(text: str) -> str:
    """Same length as ``text``; position i of the result is position i of the input, converted."""
    if text.isascii():
        return text
    return text.translate(_LAZY)


def trigrams(text: str) -> set[str]:
    """Character trigrams of the Simplified text without whitespace: the similarity measure behind the
    near-duplicate pre-check and "similar cases"."""
    text = re.sub(r"\s+", "", to_simplified(text))
    return {text[i:i + 3] for i in range(max(len(text) - 2, 0))}


def _trigram_hash(trigram: str) -> int:
    return int.from_bytes(hashlib.blake2b(trigram.encode(), digest_size=8).digest(), "little")


def fingerprint(text: str, memo: dict[str, int] | None = None) -> bytes:
    """The trigram set as sorted 64-bit hashes, little-endian: stored with each case version, so similarity
    checks compare integers instead of re-reading and re-normalising every other document. ``memo`` remembers
    trigram hashes across many texts (bulk seeding)."""
    if memo is None:
        found = {_trigram_hash(t) for t in trigrams(text)}
    else:
        found = set()
        for t in trigrams(text):
            h = memo.get(t)
            if h is None:
                h = memo[t] = _trigram_hash(t)
            found.add(h)
    hashes = array("Q", sorted(found))
    if sys.byteorder == "big":
        hashes.byteswap()
    return hashes.tobytes()


def fingerprint_set(blob: bytes) -> set[int]:
    """The hashes of a stored ``fingerprint``."""
    hashes = array("Q")
    hashes.frombytes(blob)
    if sys.byteorder == "big":
        hashes.byteswap()
    return set(hashes)


def jaccard(a: set[Any], b: set[Any]) -> float:
    """|a ∩ b| / |a ∪ b|, 0 for two empty sets."""
    common = len(a & b)
    union = len(a) + len(b) - common
    return common / union if union else 0.0

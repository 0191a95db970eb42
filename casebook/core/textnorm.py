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


def _normal(text: str) -> str:
    """The text trigrams are taken from: Simplified, without whitespace (character by character, so the normal
    form of joined texts is the join of their normal forms)."""
    return re.sub(r"\s+", "", to_simplified(text))


def trigrams(text: str) -> set[str]:
    """Character trigrams of the Simplified text without whitespace: the similarity measure behind the
    near-duplicate pre-check and "similar cases"."""
    text = _normal(text)
    return {text[i:i + 3] for i in range(max(len(text) - 2, 0))}


def _trigram_hash(trigram: str) -> int:
    return int.from_bytes(hashlib.blake2b(trigram.encode(), digest_size=8).digest(), "little")


def fingerprint(text: str) -> bytes:
    """The trigram set as sorted 64-bit hashes, little-endian: stored with each case version, so similarity
    checks compare integers instead of re-reading and re-normalising every other document."""
    return _packed({_trigram_hash(t) for t in trigrams(text)})


def _packed(hashes: set[int]) -> bytes:
    out = array("Q", sorted(hashes))
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


class PartsMemo:
    """What ``fingerprint_of_parts`` remembers across many documents built from the same texts: each text's
    normalised form and the hashes of the trigrams inside it, and the hash of every trigram met."""

    def __init__(self) -> None:
        self.parts: dict[str, tuple[str, Any]] = {}
        self.trigrams: dict[str, int] = {}

    def part(self, text: str) -> tuple[str, Any]:
        """(normal form, its trigrams' hashes as a numpy uint64 array)."""
        found = self.parts.get(text)
        if found is None:
            import numpy as np

            norm = _normal(text)
            hashes = np.array([self.hash(norm[i:i + 3]) for i in range(len(norm) - 2)], dtype=np.uint64)
            found = self.parts[text] = (norm, hashes)
        return found

    def hash(self, trigram: str) -> int:
        h = self.trigrams.get(trigram)
        if h is None:
            h = self.trigrams[trigram] = _trigram_hash(trigram)
        return h


def fingerprint_of_parts(texts: list[str], memo: PartsMemo) -> bytes:
    """``fingerprint("".join(texts))`` from each text's remembered trigrams plus the few that span two texts
    (normalising is character by character, so the joined text normalises to the joined normal forms): for
    documents assembled from a small set of texts (``casebook seed``), one sort of remembered hashes instead of
    a pass over every character."""
    import numpy as np

    parts = [memo.part(text) for text in texts]
    joined = "".join([norm for norm, _ in parts])
    last, offset, spanning = len(joined) - 3, 0, []
    for norm, _ in parts[:-1]:        # a trigram at i spans the boundary at ``b`` when b - 2 <= i < b
        offset += len(norm)
        if 2 <= offset <= last + 1:
            spanning.append(memo.hash(joined[offset - 2:offset + 1]))
            spanning.append(memo.hash(joined[offset - 1:offset + 2]))
        else:
            spanning += [memo.hash(joined[i:i + 3]) for i in (offset - 2, offset - 1) if 0 <= i <= last]
    hashes = np.concatenate([h for _, h in parts] + [np.array(spanning, dtype=np.uint64)])
    hashes.sort()
    if len(hashes) > 1:
        hashes = hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]
    return hashes.astype("<u8", copy=False).tobytes()


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

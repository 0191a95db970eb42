"""STRATEGY: the policy's lexicon of undisclosed strategy and technology (code names, unreleased features, partners
under NDA), found as its own entity and shown per the tier table as the label of the term's kind.

Terms are matched on Simplified, case-folded text (one Aho-Corasick pass), so 青鸞計劃 also finds 青鸾计划 and
Project Bluebird finds PROJECT BLUEBIRD; a Latin term must stand as a word of its own (Polaris X is not found in
Polaris XL)."""

from __future__ import annotations

from typing import Any

from casebook.core.textnorm import to_simplified
from policies.loader import Policy
from redaction.findings import Finding
from redaction.keywords import KeywordIndex

ENTITY = "STRATEGY"
SCORE = 0.9


def _key(term: str) -> str:
    return to_simplified(term).casefold()


def _compiled(policy: Policy) -> tuple[KeywordIndex, dict[str, str]]:
    cache: dict[str, Any] = policy._cache
    found = cache.get("redaction.strategy")
    if found is None:
        kinds = {_key(t): entry.kind for entry in policy.doc.redaction.strategy_lexicon for t in entry.terms}
        found = cache["redaction.strategy"] = (KeywordIndex(kinds), kinds)
    return found


def _word_edge(text: str, start: int, end: int) -> bool:
    """A term that starts or ends with a Latin letter or digit must not continue a longer word there."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not ((text[start].isascii() and text[start].isalnum() and before.isascii() and before.isalnum())
                or (text[end - 1].isascii() and text[end - 1].isalnum() and after.isascii() and after.isalnum()))


def find_terms(policy: Policy, text: str) -> list[Finding]:
    """Every lexicon term in ``text`` (longest first where two overlap), offsets into ``text`` as given."""
    index, _ = _compiled(policy)
    if not policy.doc.redaction.strategy_lexicon or not text:
        return []
    folded = to_simplified(text).casefold()
    if len(folded) != len(text):                   # casefold may lengthen (ß): match on the Simplified text only
        folded = to_simplified(text).lower()
        if len(folded) != len(text):
            return []
    hits = sorted(index.occurrences(folded), key=lambda h: (-(h[1] - h[0]), h[0]))
    out: list[Finding] = []
    for start, end, _ in hits:
        if _word_edge(text, start, end) and not any(f.start < end and start < f.end for f in out):
            out.append(Finding(ENTITY, start, end, text[start:end], SCORE))
    return sorted(out, key=lambda f: f.start)


def label(policy: Policy, span: str, script: str) -> str:
    """The label of the span's kind in ``script`` (zh-Hant, zh-Hans, en)."""
    _, kinds = _compiled(policy)
    kind = kinds.get(_key(span))
    labels = policy.doc.redaction.strategy_labels.get(kind) if kind else None
    if labels is None:
        return {"zh-Hant": "〔未公開信息〕", "zh-Hans": "〔未公开信息〕"}.get(script, "[undisclosed]")
    return {"zh-Hant": labels.zh_hant, "zh-Hans": labels.zh_hans}.get(script, labels.en)

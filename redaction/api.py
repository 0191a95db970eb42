"""What other packages call to detect: one text or a whole case document, with the policy's threshold and its
strategy lexicon. Detection runs where a version is written (and in backfills, pre-checks and the CLI); read
paths render stored findings (``redaction.render``)."""

from __future__ import annotations

import hashlib
from typing import Any

from lifecycle.document import text_fields
from policies.loader import Policy
from redaction.analyzer import ANALYZER_VERSION, Lang, detect
from redaction.findings import Finding
from redaction.strategy import find_terms


def detect_text(policy: Policy, text: str, lang: Lang = "auto") -> list[Finding]:
    """The analyzer's findings plus the policy's lexicon terms; a term wins over what it overlaps."""
    found = detect(text, lang, threshold=policy.doc.redaction.threshold)
    terms = find_terms(policy, text)
    if not terms:
        return found
    kept = [f for f in found if not any(t.start < f.end and f.start < t.end for t in terms)]
    return sorted(kept + terms, key=lambda f: f.start)


def detection_version(policy: Policy) -> str:
    """``ANALYZER_VERSION`` plus a digest of the policy's lexicon: stored findings are stale when either changes."""
    lexicon = repr([(e.kind, sorted(e.terms)) for e in policy.doc.redaction.strategy_lexicon])
    return f"{ANALYZER_VERSION}+{hashlib.sha256(lexicon.encode()).hexdigest()[:8]}"


def detect_fields(policy: Policy, document: dict[str, Any],
                  memo: dict[str, list[Finding]] | None = None) -> dict[str, list[Finding]]:
    """Findings per text field of a case document (what ``redaction.stored`` keeps per version); the analyzer
    runs once per distinct text when ``memo`` is shared across documents."""
    out: dict[str, list[Finding]] = {}
    for path, text in text_fields(document):
        found = memo.get(text) if memo is not None else None
        if found is None:
            found = detect_text(policy, text)
            if memo is not None:
                memo[text] = found
        out[path] = found
    return out


def detect_document(policy_or_document: Any, document: dict[str, Any] | None = None, *,
                    threshold: float = 0.5) -> list[dict[str, Any]]:
    """Every finding in every text field, with the field path and offsets into that field.

    Called as ``detect_document(policy, document)`` (threshold and lexicon from the policy) or, as before,
    ``detect_document(document, threshold=…)`` (the analyzer alone). A stored version's findings are read with
    ``redaction.stored.version_findings`` instead (no detection)."""
    if document is None:
        fields = {path: detect(text, threshold=threshold) for path, text in text_fields(policy_or_document)}
    else:
        fields = detect_fields(policy_or_document, document)
    return as_json(fields)


def as_json(fields: dict[str, list[Finding]]) -> list[dict[str, Any]]:
    """Findings per field as a flat list of JSON objects, each naming its field."""
    return [{"field": path, **f.as_json()} for path, found in fields.items() for f in found]

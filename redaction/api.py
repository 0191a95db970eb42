"""What other packages call: detection over a case document (pre-checks, sign-off) and rendering helpers."""

from __future__ import annotations

from typing import Any

from lifecycle.document import text_fields
from redaction.analyzer import detect


def detect_document(document: dict[str, Any], *, threshold: float = 0.5) -> list[dict[str, Any]]:
    """Every finding in every free-text field, with the field path and offsets into that field."""
    out: list[dict[str, Any]] = []
    for path, text in text_fields(document):
        for f in detect(text, threshold=threshold):
            out.append({"field": path, **f.as_json()})
    return out

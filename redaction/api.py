"""What other packages call: detection over a case document (pre-checks, sign-off) and rendering helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from lifecycle.document import text_fields
from redaction.analyzer import detect


def detect_document(document: dict[str, Any], *, threshold: float = 0.5, conn: Connection | None = None,
                    case_id: int | None = None, version_no: int | None = None) -> list[dict[str, Any]]:
    """Every finding in every free-text field, with the field path and offsets into that field: the version's
    stored findings when it has them (given its case and number), else a fresh detection."""
    stored = None
    if conn is not None and case_id is not None and version_no is not None:
        from redaction.stored import stored_findings

        stored = stored_findings(conn, case_id, version_no, document)
    out: list[dict[str, Any]] = []
    for path, text in text_fields(document):
        found = stored.get(path, []) if stored is not None else detect(text, threshold=threshold)
        for f in found:
            out.append({"field": path, **f.as_json()})
    return out

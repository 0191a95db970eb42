"""A detected span: what the analyzer produces, the storage side keeps per version and rendering consumes.

Kept apart from the analyzer so that rendering from stored findings never imports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One detected span; offsets are Python string indices into the text as given. ``shape`` is the span's
    policy-independent parse (``redaction.operators.shape_of``), worked out at detection and stored with the
    finding so a rendering only bands and splices; None where there is none (an override, an older finding)."""

    entity_type: str
    start: int
    end: int
    text: str
    score: float
    shape: tuple[Any, ...] | list[Any] | None = field(default=None, compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"entity_type": self.entity_type, "start": self.start, "end": self.end, "text": self.text,
                "score": round(self.score, 3)}

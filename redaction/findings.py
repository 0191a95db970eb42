"""A detected span: what the analyzer produces, the storage side keeps per version and rendering consumes.

Kept apart from the analyzer so that rendering from stored findings never imports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One detected span; offsets are Python string indices into the text as given."""

    entity_type: str
    start: int
    end: int
    text: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {"entity_type": self.entity_type, "start": self.start, "end": self.end, "text": self.text,
                "score": round(self.score, 3)}

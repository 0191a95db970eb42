"""Base of Casebook's recognizers: match on script-normalised text, report offsets into the original."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from casebook.core.textnorm import to_simplified
from redaction.numbers import normalise


class CasebookRecognizer(EntityRecognizer):
    """Subclasses implement ``find`` on Simplified text; offsets map 1:1 back to the original."""

    ENTITY: str = ""
    #: Cheap pre-filter: skip the document unless it holds one of these characters (None: always run).
    NEEDS: frozenset[str] | None = None

    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=[self.ENTITY], supported_language=language,
                         name=f"{type(self).__name__}_{language}")

    def load(self) -> None:  # nothing to load: patterns are compiled at import
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        if self.NEEDS is not None and self.NEEDS.isdisjoint(text):
            return []
        normalised = _simplified(text)
        return [RecognizerResult(self.ENTITY, start, end, score,
                                 recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                       RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
                for start, end, score in self.find(normalised)]

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        raise NotImplementedError


@lru_cache(maxsize=8)
def _simplified(text: str) -> str:
    """Every recognizer of one analysis reads the same normalised text (Simplified script, ASCII figures):
    convert it once."""
    return normalise(to_simplified(text))


DIGITS = frozenset("0123456789")

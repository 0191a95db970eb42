"""The analyzer: Presidio's AnalyzerEngine on blank spaCy pipelines with Casebook's recognizers only.

No model is downloaded or needed: ``spacy.blank("zh")`` / ``spacy.blank("en")`` tokenise, and every
recognizer carries its own patterns, context and validation. The language is chosen per text by script.
Presidio and spaCy live in ``redaction.engine``, imported on the first analysis (not when this module is).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from redaction.findings import Finding
from redaction.operators import shape_of

#: Stored with every version's findings. Raise it whenever recognizers, patterns, models or thresholds change what
#: is found, or what is stored with each finding: ``casebook redact backfill`` re-detects every version stored under
#: an older value. 3: findings carry their span's parse (``redaction.operators.shape_of``).
ANALYZER_VERSION = "3"
Lang = Literal["auto", "zh", "en"]
_HAN = re.compile(r"[\u4e00-\u9fff]")


def detect_language(text: str) -> str:
    """'zh' when the text holds Han characters, else 'en'."""
    return "zh" if _HAN.search(text) else "en"


def blank_nlp_engine() -> Any:
    """The shared blank spaCy engine (built on first use, see ``redaction.engine``)."""
    from redaction.engine import blank_nlp_engine as build

    return build()


def analyzer(ner: bool = True) -> Any:
    """Our engine, built once per process (``ner=False``: the cue rules alone, for the benchmark)."""
    from redaction.engine import analyzer as build

    return build(ner)


def detect(text: str, lang: Lang = "auto", *, threshold: float = 0.5) -> list[Finding]:
    """Sensitive spans in ``text`` (Traditional or Simplified Chinese, or English)."""
    if not text:
        return []
    return list(_detect_cached(text, lang, threshold) if len(text) <= 2000 else _detect(text, lang, threshold))


@lru_cache(maxsize=8192)
def _detect_cached(text: str, lang: Lang, threshold: float) -> tuple[Finding, ...]:
    """Titles and snippets repeat across recipients and digests: detection is deterministic, so remember it."""
    return _detect(text, lang, threshold)


def _detect(text: str, lang: Lang, threshold: float, ner: bool = True) -> tuple[Finding, ...]:
    from redaction.engine import resolve
    from redaction.recognizers import ENTITIES

    language = detect_language(text) if lang == "auto" else lang
    results = analyzer(ner).analyze(text=text, language=language, entities=ENTITIES, score_threshold=threshold)
    return tuple(Finding(r.entity_type, r.start, r.end, span, r.score, shape_of(r.entity_type, span))
                 for r in resolve(results) for span in (text[r.start:r.end],))

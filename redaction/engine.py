"""Presidio's engine for Casebook: blank spaCy pipelines, a deterministic registry, no context pass.

Kept apart from ``redaction.analyzer`` so that importing the analyzer's constants and ``detect`` costs nothing:
Presidio and spaCy (seconds to import) are loaded only when a text is first analysed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc

from redaction.recognizers import recognizers_for

LANGUAGES = ("zh", "en")


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """SpacyNlpEngine whose pipelines are ``spacy.blank(lang)``: tokenisation only, nothing to download."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in languages],
                         ner_model_configuration=NerModelConfiguration(labels_to_ignore=["*"]))
        self._languages = languages
        self._empty: dict[str, NlpArtifacts] = {}

    def load(self) -> None:
        self.nlp = {lang: spacy.blank(lang) for lang in self._languages}

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """No tokens: every recognizer of ours matches on the Simplified-normalised text with its own context
        words, so the same empty artifacts (made once per language) serve every text. A Doc of the text would
        also put every analysed text into the shared vocabulary's string store, which only grows (a backfill of
        every stored version kept them all in memory), and cost a twentieth of the analysis."""
        if not self.nlp:
            raise ValueError("NLP engine is not loaded. Consider calling .load()")
        found = self._empty.get(language)
        if found is None:
            found = self._empty[language] = self._doc_to_nlp_artifact(Doc(self.nlp[language].vocab), language)
        return found

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        """Tokens only: blank pipelines have no lemmas or entities, and our recognizers carry their own context
        words, so Presidio's lemma keywords (half of the analysis time) are not built."""
        return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=self, language=language)


class CasebookRegistry(RecognizerRegistry):
    """Answers the same request with the same recognizers in the same order (by name), worked out once.

    Presidio's registry filters every recognizer on every call and returns them from a set, so their order, and
    with it which of two equally scored overlapping findings comes first, could differ from process to process.
    """

    def __init__(self, languages: list[str]) -> None:
        super().__init__(supported_languages=languages)
        self._memo: dict[tuple[Any, ...], list[EntityRecognizer]] = {}

    def get_recognizers(self, language: str, entities: list[str] | None = None, all_fields: bool = False,
                        ad_hoc_recognizers: list[EntityRecognizer] | None = None) -> list[EntityRecognizer]:
        if ad_hoc_recognizers:
            return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
        # The list is replaced on removal and grows on addition: either changes the key.
        key = (language, tuple(entities or ()), all_fields, id(self.recognizers), len(self.recognizers))
        found = self._memo.get(key)
        if found is None:
            found = sorted(super().get_recognizers(language, entities, all_fields), key=lambda r: r.name)
            self._memo[key] = found
        return found


class CasebookAnalyzerEngine(AnalyzerEngine):
    """Presidio's engine, minus the context-enhancement pass: every recognizer of ours scores its own context
    words (titles, speech verbs, money words) in both scripts, and the generic lemma-window enhancer cannot
    read Chinese without lemmas. Skipping the pass (a loop of recognizers x findings) saves a sixth of the
    engine's own time per document."""

    def _enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):  # type: ignore[no-untyped-def]
        return raw_results


@lru_cache(maxsize=1)
def blank_nlp_engine() -> BlankSpacyNlpEngine:
    engine = BlankSpacyNlpEngine()
    engine.load()
    return engine


@lru_cache(maxsize=2)
def analyzer(ner: bool = True) -> AnalyzerEngine:
    """Our engine, built once per process (``ner=False``: the cue rules alone, for the benchmark)."""
    registry = CasebookRegistry(list(LANGUAGES))
    for lang in LANGUAGES:
        for recognizer in recognizers_for(lang, ner=ner):
            registry.add_recognizer(recognizer)
    from redaction.recognizers.zh.person import warm_up

    warm_up()
    if ner:
        from redaction.ner import model

        model()
    return CasebookAnalyzerEngine(registry=registry, nlp_engine=blank_nlp_engine(), supported_languages=list(LANGUAGES))


def resolve(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Overlapping spans: keep the higher score, then the longer span (Presidio keeps both types otherwise)."""
    kept: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start, r.entity_type)):
        if not any(k.start < r.end and r.start < k.end for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r.start)



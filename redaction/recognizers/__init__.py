"""Casebook's recognizers, one per file: generic (money, percentages, e-mail, cards, phones), country-specific
(Chinese ID card) and per language (people)."""

from __future__ import annotations

# Class names must differ from Presidio's predefined ones (EmailRecognizer, PhoneRecognizer …): Presidio's
# registry loader finds recognizer classes by name among all EntityRecognizer subclasses, so a clash would
# put ours into a default AnalyzerEngine, with the wrong constructor.

from redaction.recognizers.base import CasebookRecognizer
from redaction.recognizers.country_specific.cn.id_card import ChineseIdCardRecognizer
from redaction.recognizers.en.person import EnglishPersonRecognizer
from redaction.recognizers.generic.bank_card import BankCardRecognizer
from redaction.recognizers.generic.email import CasebookEmailRecognizer
from redaction.recognizers.generic.money import MoneyRecognizer
from redaction.recognizers.generic.percentage import PercentageRecognizer
from redaction.recognizers.generic.phone import CasebookPhoneRecognizer
from redaction.recognizers.zh.ner_person import LacPersonRecognizer
from redaction.recognizers.zh.person import ChinesePersonRecognizer
from typing import get_args

from policies.schema import Entity

GENERIC = (MoneyRecognizer, PercentageRecognizer, CasebookEmailRecognizer, BankCardRecognizer, CasebookPhoneRecognizer,
           ChineseIdCardRecognizer)


def recognizers_for(language: str, *, ner: bool = True) -> list[CasebookRecognizer]:
    """Every recognizer that runs on text of ``language`` ('zh' or 'en'); ``ner`` adds the LAC name model."""
    people: list[CasebookRecognizer] = [EnglishPersonRecognizer(language)]
    if language == "zh":
        people.insert(0, ChinesePersonRecognizer(language))
        if ner:
            people.insert(1, LacPersonRecognizer(language))
    return [cls(language) for cls in GENERIC] + people


#: What the analyzer is asked for: every entity the policy schema names, but STRATEGY, which comes from the
#: policy's lexicon (redaction.strategy) rather than a recognizer.
ENTITIES = [e for e in get_args(Entity) if e != "STRATEGY"]

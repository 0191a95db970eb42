"""Consistent pseudonyms within a case: one person, one mask, in every field and version.

``assign`` is a pure function of the case's person mentions in order of first appearance (versions in order,
fields in document order, offsets in order). Two people who share a surname become 張某甲 and 張某乙, a lone
surname stays 張某; a surname-and-title reference (王總, 陳先生) is the same person as the one full name of that
surname in the case, if there is exactly one; English names become Person A, Person B. Keys are script-folded
(Traditional and Simplified spellings of a name are one person); the mask keeps the script of each mention.

The storage side calls ``for_case`` with every stored version's findings when it renders, so a name keeps its
mask across versions; assignments only ever grow by appending new people, except that a surname's first
holder moves from 張某 to 張某甲 when a second 張 appears (renderings of the case are then refreshed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from casebook.core.textnorm import to_simplified
from redaction.lexicon import COMPOUND_SURNAMES

#: Person references made of a surname and a form of address rather than a given name.
ADDRESS = ("总经理", "经理", "总监", "先生", "女士", "小姐", "老师", "教授", "博士", "主任", "店长", "总", "工", "姐", "哥")
ORDINALS = "甲乙丙丁戊己庚辛壬癸"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_PREFIX_TITLES = ("店长", "经理", "总监", "主管", "受访者", "顾客", "客户")


@lru_cache(maxsize=65536)
def person_key(name: str) -> str:
    """The identity a mention stands for: Simplified, no spaces, English case-folded."""
    key = re.sub(r"\s+", " ", to_simplified(name).strip())
    return key if _HAN.search(key) else key.casefold()


def surname_of(name: str) -> str:
    """The surname of a Chinese name as written (compound surnames included), '' for other names."""
    simple = to_simplified(name)
    if not _HAN.match(simple):
        return ""
    return name[:2] if simple[:2] in COMPOUND_SURNAMES else name[:1]


def _shape(key: str) -> tuple[str, str]:
    """(surname, kind): kind is 'name' (given name), 'address' (王总), 'anonymous' (王某) or 'english'."""
    if not _HAN.match(key):
        return "", "english"
    for title in _PREFIX_TITLES:                      # 店长王某: the title is not part of the identity
        if key.startswith(title) and len(key) > len(title) + 1:
            key = key[len(title):]
    surname = surname_of(key)
    rest = key[len(surname):]
    if rest.startswith("某"):
        return surname, "anonymous"
    if rest in ADDRESS:
        return surname, "address"
    return surname, "name"


def _label(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else str(index + 1)


def assign(mentions: Iterable[str]) -> dict[str, str]:
    """{person key: pseudonym (Simplified)} for mentions in order of first appearance."""
    order: list[str] = []
    seen: set[str] = set()
    for mention in mentions:
        key = person_key(mention)
        if key and key not in seen:
            seen.add(key)
            order.append(key)
    # People per surname: full names and anonymised references first come, first served; an address form
    # joins the surname's single full name when there is exactly one, else it is a person of its own.
    people: dict[str, list[str]] = {}
    alias: dict[str, str] = {}
    shapes = {key: _shape(key) for key in order}
    names_by_surname: dict[str, list[str]] = {}
    for key in order:
        surname, kind = shapes[key]
        if kind == "name":
            names_by_surname.setdefault(surname, []).append(key)
    english: list[str] = []
    for key in order:
        surname, kind = shapes[key]
        if kind == "english":
            english.append(key)
            continue
        if kind == "address" and len(names_by_surname.get(surname, [])) == 1:
            alias[key] = names_by_surname[surname][0]
            continue
        people.setdefault(surname, []).append(key)
    out: dict[str, str] = {}
    for surname, keys in people.items():
        for i, key in enumerate(keys):
            out[key] = f"{to_simplified(surname)}某" + (_label(i) if len(keys) > 1 else "")
    for key, target in alias.items():
        out[key] = out[target]
    for i, key in enumerate(english):
        out[key] = "Person " + (chr(ord("A") + i) if i < 26 else str(i + 1))
    return out


def mentions_in(fields: Iterable[tuple[str, str, Iterable[Any]]]) -> list[str]:
    """Person mentions of one version's (path, text, findings), in field order then offset order."""
    return [text[f.start:f.end] for _path, text, found in fields
            for f in sorted(found, key=lambda f: f.start) if f.entity_type == "PERSON"]


def for_case(versions: Iterable[Iterable[tuple[str, str, Iterable[Any]]]]) -> dict[str, str]:
    """The case's mapping from every version's (path, text, findings), versions in order."""
    return assign(m for fields in versions for m in mentions_in(fields))


def mask(span: str, mapping: Mapping[str, str]) -> str | None:
    """The span's pseudonym in the span's own script (張某甲 for a Traditional mention), None if unmapped."""
    pseudonym = mapping.get(person_key(span))
    if pseudonym is None:
        return None
    return _in_script(span, pseudonym)


@lru_cache(maxsize=65536)
def _in_script(span: str, pseudonym: str) -> str:
    if not _HAN.match(pseudonym):
        return pseudonym
    written = span.strip()
    _, kind = _shape(person_key(written))
    for title in _PREFIX_TITLES:
        if to_simplified(written).startswith(title) and len(written) > len(title) + 1:
            prefix, written = written[:len(title)], written[len(title):]
            return prefix + surname_of(written) + pseudonym[len(to_simplified(surname_of(written))):]
    surname = surname_of(written)
    return surname + pseudonym[len(to_simplified(surname)):] if kind != "english" else pseudonym

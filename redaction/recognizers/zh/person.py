"""PERSON (Chinese): a surname and 1-2 given-name characters next to a title, role or speech verb.

Candidates come from the surname list and context words; jieba then confirms that the candidate is a word
of its own (segmentation boundaries in a small window) and not a dictionary word that is not a name, so
方案负责人 or 由于成本 are not people and brands such as 华为 or 李宁 are excluded by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from redaction.lexicon import (COMPOUND_SURNAMES, NAME_BREAK, NOT_PEOPLE, PERSONAL_AFTER, SPEECH_AFTER, SURNAMES,
                               TITLES_AFTER, TITLES_BEFORE, WEAK_TITLES_BEFORE)
from redaction.keywords import KeywordIndex
from redaction.recognizers.base import CasebookRecognizer

AFTER = re.compile("|".join(sorted(map(re.escape, TITLES_AFTER + SPEECH_AFTER + PERSONAL_AFTER), key=len, reverse=True))
                   + "|说(?![明服法话])")
#: Dictionary tags of ordinary words (not names, places or brands): such a word is not a given name.
ORDINARY = ("n", "v", "vn", "a", "ad", "an", "d", "vd", "l", "i", "m", "q", "f", "t", "c", "p", "u", "r")
STRONG_BEFORE = re.compile("(?:" + "|".join(sorted(map(re.escape, set(TITLES_BEFORE) - set(WEAK_TITLES_BEFORE)),
                                                   key=len, reverse=True)) + r")[：:\s]?$")
WEAK_BEFORE = re.compile("(?:" + "|".join(sorted(map(re.escape, WEAK_TITLES_BEFORE), key=len, reverse=True))
                         + r")[：:\s]?$")
NOT_PEOPLE_AT = re.compile("|".join(sorted(map(re.escape, NOT_PEOPLE), key=len, reverse=True)))
ROLE_WORDS = frozenset(TITLES_AFTER) | frozenset(TITLES_BEFORE)
HONORIFICS = ("总经理", "经理", "总监", "先生", "女士", "小姐", "老师", "教授", "博士", "主任", "店长", "总")
HONORIFIC = re.compile("|".join(HONORIFICS))
#: After 总 these make a word (总结, 总部, 总额 …), not "Mr/Ms <surname>".
NOT_AFTER_ZONG = frozenset("结体部计额量数之共是值价和算裁监")


def _han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba, jieba.posseg.dt.word_tag_tab


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first document."""
    _jieba()


def _is_common_word(word: str) -> bool:
    tag = _jieba()[1].get(word)
    return tag is not None and not tag.startswith("nr")


def _is_ordinary_word(word: str) -> bool:
    """A dictionary word that is not a proper noun (名词, 动词 …), e.g. 链路 but not 建国 (a place name too)."""
    return len(word) > 1 and _jieba()[1].get(word) in ORDINARY


def _own_word(text: str, start: int, end: int) -> bool:
    """Whether jieba, segmenting a window around the candidate, puts word boundaries at its start and end."""
    jieba = _jieba()[0]
    lo, hi = max(0, start - 3), min(len(text), end + 3)
    bounds, pos = {lo}, lo
    for token in jieba.lcut(text[lo:hi], HMM=True):
        pos += len(token)
        bounds.add(pos)
    return start in bounds and end in bounds


#: Every start of an after-cue (title, speech verb, personal datum, honorific) and every end of a before-cue
#: (a title, optionally followed by a colon or space), found once per text: a surname with no cue beside it
#: cannot yield a candidate, so the per-surname checks (and their jieba look-ups) are skipped for it.
_AFTER_WORDS = KeywordIndex([*TITLES_AFTER, *SPEECH_AFTER, *PERSONAL_AFTER, "说", *HONORIFICS])
_BEFORE_WORDS = KeywordIndex([*TITLES_BEFORE, *WEAK_TITLES_BEFORE])
SINGLE_SURNAMES = frozenset(s for s in SURNAMES if len(s) == 1)
#: Characters where a surname may start (a character class: the regex engine skips to them in C); a compound
#: surname's first character is not always a surname of its own, so those hits are checked in ``find``.
SURNAME_START = re.compile("[" + "".join(sorted(SINGLE_SURNAMES | {s[0] for s in COMPOUND_SURNAMES})) + "]")
_NOT_SAID = frozenset("明服法话")                      # 说明, 说服, 说法, 说话 are not "said"
LISTING = "、和及与"
CONNECTORS = frozenset("和与及")


def _cues(text: str) -> tuple[set[int], set[int]]:
    after = {start for start, end, word in _AFTER_WORDS.occurrences(text)
             if word != "说" or end >= len(text) or text[end] not in _NOT_SAID}
    before: set[int] = set()
    for _, end, _ in _BEFORE_WORDS.occurrences(text):
        before.add(end)
        if end < len(text) and (text[end] in "：:" or text[end].isspace()):
            before.add(end + 1)
    return after, before


#: Surnames that are also everyday function words: before 某 they are not a surname (和某品牌, 于某天, 向某客户).
NOT_SURNAME_BEFORE_MOU = frozenset("和于向任时成全单应万明文安关常从华方高金石白龙车包宁甘")
#: An author's own anonymisation (王某, 歐陽某某, 店長李某): still a person reference, flagged so that the
#: sign-off sheet shows it and the case's pseudonyms stay consistent; 某 followed by these is "some …".
ANONYMISED = re.compile("(?:" + "|".join(sorted(COMPOUND_SURNAMES, key=len, reverse=True)) + "|["
                        + "".join(sorted(set(SURNAMES) - NOT_SURNAME_BEFORE_MOU)) + "])某{1,2}[甲乙丙丁戊己庚辛壬癸]?"
                        "(?![些天项种个位一家类品方人时处次件样段年月日款地部门店些])")


class ChinesePersonRecognizer(CasebookRecognizer):
    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        return people(text)

    def found(self, text: str) -> Iterable[tuple[int, int, float]]:
        yield from self._cued(text)
        if "某" in text:
            for m in ANONYMISED.finditer(text):
                if m.start() == 0 or not NOT_PEOPLE_AT.match(text, m.start()):
                    yield m.start(), m.end(), 0.7

    def _cued(self, text: str) -> Iterable[tuple[int, int, float]]:
        last_end = -1
        after, before = _cues(text)
        for m in SURNAME_START.finditer(text):
            i = m.start()
            if text[i] not in SINGLE_SURNAMES and text[i:i + 2] not in COMPOUND_SURNAMES:
                continue
            if i < last_end:
                continue
            if i not in before and not (i > 0 and text[i - 1] in LISTING) and after.isdisjoint(range(i + 1, i + 5)):
                continue
            if NOT_PEOPLE_AT.match(text, i):
                continue
            if text[i] in CONNECTORS and i > 0 and _han(text[i - 1]) and text[i + 1:i + 2] in SINGLE_SURNAMES:
                continue                                  # 林雅婷和郭靜負責: 和 joins two names here

            sl = 2 if text[i:i + 2] in COMPOUND_SURNAMES else 1
            listed = i > 0 and i - 1 == last_end and text[i - 1] in "、和及与"   # 彭磊、曾雪、肖楠
            found = self._candidate(text, i, sl, listed)
            if found:
                start, end, score = found
                last_end = end
                yield start, end, score

    def _candidate(self, text: str, i: int, sl: int, listed: bool) -> tuple[int, int, float] | None:
        inside_word = i > 0 and _han(text[i - 1])
        # Surname + honorific (王总, 陈先生, 張經理): the whole form is the person reference.
        h = HONORIFIC.match(text, i + sl)
        if h and not (h.group() == "总" and h.end() < len(text) and text[h.end()] in NOT_AFTER_ZONG):
            if not inside_word or STRONG_BEFORE.search(text, 0, i) or _own_word(text, i, h.end()):
                return i, h.end(), 0.7
        # Surname + given name followed by a title, a speech verb or a possessive personal datum.
        for glen in (2, 1):
            end = i + sl + glen
            given = text[i + sl:end]
            if len(given) == glen and self._given_ok(given) and AFTER.match(text, end) \
                    and self._plausible(text, i, end, check_boundaries=inside_word):
                return i, end, 0.8
        # A title or role right before (or a list of names): jieba finds where the name ends.
        strong = listed or bool(STRONG_BEFORE.search(text, 0, i))
        if strong or WEAK_BEFORE.search(text, 0, i):
            end = self._name_end(text, i, sl)
            if end and (strong or end - i == sl + 2 or _jieba()[1].get(text[i:end], "").startswith("nr")) \
                    and self._plausible(text, i, end, check_boundaries=not strong):
                return i, end, 0.75
        return None

    @staticmethod
    def _given_ok(given: str) -> bool:
        return all(_han(c) and c not in NAME_BREAK for c in given) and "某" not in given

    def _name_end(self, text: str, i: int, sl: int) -> int | None:
        """End of a name starting at ``i``: jieba's first token when it is name-sized, else the break rule."""
        jieba = _jieba()[0]
        first = jieba.lcut(text[i:i + sl + 4], HMM=True)[0]
        if len(first) > sl and _is_common_word(first):
            return None                                       # 供应商管理…: an ordinary word, not a name
        if sl + 1 <= len(first) <= sl + 2 and self._given_ok(first[sl:]):
            return i + len(first)
        glen = 1 if (i + sl + 1 >= len(text) or text[i + sl + 1] in NAME_BREAK or not _han(text[i + sl + 1])) else 2
        given = text[i + sl:i + sl + glen]
        return i + sl + glen if given and self._given_ok(given) else None

    @staticmethod
    def _plausible(text: str, start: int, end: int, *, check_boundaries: bool) -> bool:
        word = text[start:end]
        if word in NOT_PEOPLE or word in ROLE_WORDS or _is_common_word(word):
            return False                                      # 顾问 is tagged nr by jieba, but it is a role
        if not check_boundaries:
            return True                                       # a title right next to it vouches for the name
        sl = 2 if word[:2] in COMPOUND_SURNAMES else 1
        if _is_ordinary_word(word[sl:]) or (len(word) > sl + 1 and _is_ordinary_word(word[:sl + 1])):
            return False                                      # 用户全链路, 方案中: ordinary words, not names
        return _own_word(text, start, end)


_RULES = ChinesePersonRecognizer("zh")


@lru_cache(maxsize=8)
def people(text: str) -> tuple[tuple[int, int, float], ...]:
    """The cue rules' names in Simplified ``text``, remembered for the analysis in progress: the LAC recognizer
    (``redaction.recognizers.zh.ner_person``) skips the candidates they cover."""
    return tuple(_RULES.found(text))

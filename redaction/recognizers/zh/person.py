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
from redaction.recognizers.base import CasebookRecognizer

AFTER = re.compile("|".join(sorted(map(re.escape, TITLES_AFTER + SPEECH_AFTER + PERSONAL_AFTER), key=len, reverse=True))
                   + "|说(?![明服法话])")
#: Dictionary tags of ordinary words (not names, places or brands): such a word is not a given name.
ORDINARY = ("n", "v", "vn", "a", "ad", "an", "d", "vd", "l", "i", "m", "q", "f", "t", "c", "p", "u", "r")
STRONG_BEFORE = re.compile("(?:" + "|".join(sorted(map(re.escape, set(TITLES_BEFORE) - set(WEAK_TITLES_BEFORE)),
                                                   key=len, reverse=True)) + r")[：:\s]?$")
WEAK_BEFORE = re.compile("(?:" + "|".join(sorted(map(re.escape, WEAK_TITLES_BEFORE), key=len, reverse=True))
                         + r")[：:\s]?$")
#: Where a surname (compound first) may start; lookahead so overlapping starts are all visited.
SURNAME_AT = re.compile("(?=" + "|".join(sorted(COMPOUND_SURNAMES, key=len, reverse=True)) + "|["
                        + "".join(sorted(s for s in SURNAMES if len(s) == 1)) + "])")
NOT_PEOPLE_AT = re.compile("|".join(sorted(map(re.escape, NOT_PEOPLE), key=len, reverse=True)))
ROLE_WORDS = frozenset(TITLES_AFTER) | frozenset(TITLES_BEFORE)
HONORIFIC = re.compile(r"(?:总经理|经理|总监|先生|女士|小姐|老师|教授|博士|主任|店长|总)")
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
_AFTER_ANY = re.compile("(?=(?:" + AFTER.pattern + "|" + HONORIFIC.pattern + "))")
_BEFORE_ANY = re.compile("(?=(" + "|".join(sorted(map(re.escape, set(TITLES_BEFORE) | set(WEAK_TITLES_BEFORE)),
                                                 key=len, reverse=True)) + r")([：:\s]?))")
LISTING = "、和及与"


def _cues(text: str) -> tuple[set[int], set[int]]:
    after = {m.start() for m in _AFTER_ANY.finditer(text)}
    before: set[int] = set()
    for m in _BEFORE_ANY.finditer(text):
        before.add(m.end(1))
        before.add(m.end(2))
    return after, before


class ChinesePersonRecognizer(CasebookRecognizer):
    ENTITY = "PERSON"

    def find(self, text: str) -> Iterable[tuple[int, int, float]]:
        last_end = -1
        after, before = _cues(text)
        for m in SURNAME_AT.finditer(text):
            i = m.start()
            if i < last_end or NOT_PEOPLE_AT.match(text, i):
                continue
            if i not in before and not (i > 0 and text[i - 1] in LISTING) and \
                    not any(j in after for j in range(i + 1, i + 5)):
                continue
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

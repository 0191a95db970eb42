"""Every occurrence of many literal words in one pass (Aho-Corasick), overlaps included.

The recognizers' cue lists (titles, speech verbs, surnames) hold hundreds of words; a regex alternation inside a
lookahead tries each of them at every position of the text, while the automaton reads the text once in C.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import ahocorasick


class KeywordIndex:
    """Finds the words it was built with, as ``(start, end, word)`` in order of their end."""

    def __init__(self, words: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word in set(words):
            if word:
                self._automaton.add_word(word, word)
        self._automaton.make_automaton()

    def occurrences(self, text: str) -> Iterator[tuple[int, int, str]]:
        if not text:
            return
        for last, word in self._automaton.iter(text):
            yield last + 1 - len(word), last + 1, word

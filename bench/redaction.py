"""Redaction analyzer speed: documents/s of ours vs a plain Presidio AnalyzerEngine (its default predefined
recognizers) on the same blank spaCy pipelines and the same documents, in one run; plus the batch path
(processes) for backfills.

Documents are ~300 characters built from the project's own evaluation sentences (zh-Hant, zh-Hans, en).
Usage: python bench/redaction.py [--docs 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from presidio_analyzer import AnalyzerEngine  # noqa: E402
from presidio_analyzer.nlp_engine import SpacyNlpEngine  # noqa: E402

from redaction import evaluation  # noqa: E402
from redaction.analyzer import _detect, analyzer, blank_nlp_engine, detect_language  # noqa: E402
from redaction.recognizers import ENTITIES  # noqa: E402

detect = _detect  # the uncached path: every document is new to the analyzer
ROOT = Path(__file__).resolve().parents[1]
logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # plain Presidio's URL recognizer tries the network


def documents(n: int, size: int = 300, seed: int = 7) -> list[str]:
    samples = [s.text for s in evaluation.load(ROOT / "tests" / "fixtures" / "redaction_eval.txt")]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        doc = ""
        while len(doc) < size:
            doc += rng.choice(samples)
        out.append(doc[:size + 40])
    return out


def rate(fn, docs: list[str]) -> float:
    for d in docs[:20]:
        fn(d)
    start = time.perf_counter()
    for d in docs:
        fn(d)
    return len(docs) / (time.perf_counter() - start)


def _worker(chunk: list[str]) -> int:
    analyzer()
    return sum(len(detect(d, 'auto', 0.5)) for d in chunk)


def batch_rate(docs: list[str], workers: int) -> float:
    chunks = [docs[i::workers] for i in range(workers)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=analyzer) as pool:
        pool.map(_worker, [c[:10] for c in chunks])        # warm every worker
        start = time.perf_counter()
        pool.map(_worker, chunks)
        return len(docs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    docs = documents(args.docs)
    analyzer()
    stock = SpacyNlpEngine(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in ("zh", "en")])
    stock.nlp = {lang: blank_nlp_engine().nlp[lang] for lang in ("zh", "en")}   # same pipelines, stock artifacts
    plain = AnalyzerEngine(nlp_engine=stock, supported_languages=["zh", "en"])
    ours = rate(lambda d: detect(d, 'auto', 0.5), docs)
    presidio = rate(lambda d: plain.analyze(text=d, language=detect_language(d)), docs)
    analyze_only = rate(lambda d: analyzer().analyze(text=d, language=detect_language(d), entities=ENTITIES), docs)
    batch = batch_rate(docs, args.workers)
    print(f"documents: {len(docs)} of ~{sum(map(len, docs)) // len(docs)} chars")
    print(f"ours (detect, one core):          {ours:8.0f} docs/s")
    print(f"ours (AnalyzerEngine.analyze):    {analyze_only:8.0f} docs/s")
    print(f"plain Presidio, default recognizers: {presidio:8.0f} docs/s")
    print(f"ratio ours / plain Presidio:      {ours / presidio:8.2f}")
    print(f"batch, {args.workers} processes:            {batch:8.0f} docs/s ({batch / ours:.2f}x one core)")


if __name__ == "__main__":
    main()

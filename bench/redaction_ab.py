"""Renderings of this checkout against another's (issue 18): byte for byte, on the bench documents, the same
documents with fresh figures and the evaluation samples, at every display tier the policy has.

``--dump FILE`` renders with the code on ``PYTHONPATH`` (or this checkout) and writes the renderings; where
findings carry a stored parse (``Finding.shape``) it writes three variants: findings as detected, the same after
the stored JSON round trip (``redaction.stored._encode`` / ``_decode``), and with the parse dropped (findings
stored before parses were). Each document is rendered with empty replacement memos, so every span is worked out
from its parse (or text), none remembered from another. ``--compare A B`` compares two dumps (each variant of B
against A's first).

Usage: PYTHONPATH=/work/main python bench/redaction_ab.py --dump /tmp/main.json
       PYTHONPATH=$PWD python bench/redaction_ab.py --dump /tmp/this.json
       python bench/redaction_ab.py --compare /tmp/main.json /tmp/this.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or str(Path(__file__).resolve().parents[1]))


def _dump(path: str, docs: int) -> None:
    import importlib.util

    from redaction import stored
    from redaction.analyzer import _detect
    from redaction.pseudonyms import assign
    from redaction.render import render_findings
    from redaction.tiers import Audience

    import redaction as code
    from policies.loader import load_policy
    # the bench's documents (bench/redaction.py, which puts this checkout first on sys.path: the code under test
    # is imported above, and the path is put back after)
    path_before = list(sys.path)
    spec = importlib.util.spec_from_file_location("bench_redaction", Path(__file__).with_name("redaction.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sys.path[:] = path_before
    documents, fresh_figures, samples = bench.documents, bench.fresh_figures, bench.samples
    assert Path(stored.__file__).is_relative_to(Path(sys.path[0]).resolve()), "not the code under test"

    root = Path(code.__file__).resolve().parents[1]
    policy = load_policy(root / "policies" / "default.yaml")
    audiences = {}
    for clearance in policy.doc.clearances:
        for classification in policy.doc.classifications:
            for own in (False, True):
                for author in (False, True):
                    audience = Audience(clearance, classification, own, author)
                    audiences.setdefault(stored.tier_key(policy, audience), audience)
    texts = documents(docs) + [s.text for s in samples()]
    detected = [(t, list(_detect(t, "auto", 0.5, True))) for t in texts]
    rng = random.Random(docs)
    shape_of = getattr(__import__("redaction.operators", fromlist=["x"]), "shape_of", None)
    fresh = []
    for text, found in detected[:docs]:
        new, moved = fresh_figures(text, found, rng)
        if shape_of is not None:   # the parse worked out again by detection's own function
            moved = [type(f)(f.entity_type, f.start, f.end, f.text, f.score, shape_of(f.entity_type, f.text))
                     for f in moved]
        fresh.append((new, moved))
    items = detected + fresh
    variants = {"as detected": items}
    if shape_of is not None:
        variants["stored JSON"] = [(t, stored._decode({"title": t}, json.loads(json.dumps(stored._encode(
            {"title": found}))))["title"] if found else []) for t, found in items]
        variants["no parse"] = [(t, [type(f)(f.entity_type, f.start, f.end, f.text, f.score) for f in found])
                                for t, found in items]
    out = {}
    for name, pairs in variants.items():
        shown = []
        for text, found in pairs:
            policy._cache.pop("redaction.render", None)       # every span worked out afresh, none remembered
            mapping = assign(text[f.start:f.end] for f in found if f.entity_type == "PERSON")
            shown.extend(render_findings(policy, text, found, audience, pseudonyms=mapping)
                         for audience in audiences.values())
        out[name] = shown
    out["tiers"] = sorted(audiences)
    Path(path).write_text(json.dumps(out, ensure_ascii=False))
    print(f"{len(items)} texts x {len(audiences)} tiers, variants: {', '.join(variants)}")


def _compare(a: str, b: str) -> None:
    base, this = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    assert base["tiers"] == this["tiers"], "tier tables differ"
    reference = base["as detected"]
    for name, shown in this.items():
        if name == "tiers":
            continue
        diffs = [(x, y) for x, y in zip(reference, shown) if x != y]
        print(f"{name}: {len(shown)} renderings, {len(diffs)} differ" + (f"; first: {diffs[0]}" if diffs else ""))
        assert len(shown) == len(reference)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump")
    parser.add_argument("--docs", type=int, default=800)
    parser.add_argument("--compare", nargs=2)
    args = parser.parse_args()
    _compare(*args.compare) if args.compare else _dump(args.dump, args.docs)


if __name__ == "__main__":
    main()

"""Same answers: this tree's ``library.search`` on one store against another revision's (``git show REV:...``) on
another (or the same) store, query by query: totals, ``total_relation``, the page's keys, order and scores, and
the facet counts must be equal. For a change of the index layout: the old code on a copy of the store before the
migration, this code on a copy after it.

Queries: ``bench/read_scale.py``'s (keyword, tag, keyword + filter) as its reader, each also sorted newest and by
rating, on pages 1, 2 and 60 (past the window), and tag + keyword and filter-only variants.

Usage: python bench/search_same.py --old-url URL --new-url URL [--base main] [--queries 30] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casebook.assembly import build_context  # noqa: E402
from casebook.core.users import Actor, get_user_row  # noqa: E402
from library import search as new_search  # noqa: E402
import read_scale  # noqa: E402
from search_ab import _call, revision_module  # noqa: E402


def variants(policy: Any, n: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    batches = read_scale.queries(rng, policy, n)
    base = [q for batch in batches.values() for q in batch]
    base += [{"q": k["q"], "tag": t["tag"]} for k, t in zip(batches["keyword"], batches["tag"])]
    base += [{"library": f["library"], "published_from": f["published_from"]} for f in batches["keyword+filter"]]
    out = []
    for q in base:
        for sort in ("relevance", "newest", "rating"):
            for page in (1, 2, 60):
                out.append(q | {"sort": sort, "page": page})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old-url", required=True)
    parser.add_argument("--new-url", required=True)
    parser.add_argument("--base", default="main")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--home", default="/tmp")
    args = parser.parse_args()
    old_module = revision_module(args.base)
    for module in (old_module, new_search):  # the search log is not what is compared, and the stores stay as they are
        module.record_search = lambda *a, **k: None
    contexts = [build_context(settings=read_scale._settings(url, Path(args.home)))
                for url in (args.old_url, args.new_url)]
    with contexts[0].engine.connect() as conn:
        actor = Actor.of(get_user_row(conn, read_scale.READER))
    checked = differ = 0
    for params in variants(contexts[0].policy, args.queries):
        old = _call(old_module, contexts[0], actor, params).as_json()
        new = _call(new_search, contexts[1], actor, params).as_json()
        checked += 1
        if old != new:
            differ += 1
            print("DIFFERENT", params, {k: (old[k], new[k]) for k in old if old[k] != new[k]} if differ <= 3 else "")
    print(f"{checked} searches compared, {differ} different")
    for ctx in contexts:
        ctx.close()
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

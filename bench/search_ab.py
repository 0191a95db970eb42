"""Search in-process, A/B: this tree's ``library.search`` against another revision's (``git show REV:...``), on
the same seeded stores, query by query interleaved, CPU time (``time.process_time``: the machine is shared, wall
clock is noise). Prints p50/p95 per query kind and store, side by side, with the new/old and the largest/smallest
store ratios.

The queries are ``bench/read_scale.py``'s (keyword, tag, keyword + filter) as its reader, plus each kind sorted
by rating and page 2; stores are those ``bench/read_scale.py`` seeds (``read_<size>.db`` in --store-dir, or the
PostgreSQL databases ``casebook_read_<size>`` with --db-url).

Usage: python bench/search_ab.py --store-dir DIR [--sizes 10000 100000] [--base main] [--queries 40]
       [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.core.users import Actor, get_user_row  # noqa: E402
from library import search as new_search  # noqa: E402
import read_scale  # noqa: E402


def revision_module(rev: str) -> ModuleType:
    """``library/search.py`` as it is at ``rev``, imported under another name beside this tree's."""
    source = subprocess.run(["git", "show", f"{rev}:library/search.py"], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[1]).stdout
    spec = importlib.util.spec_from_loader(f"search_{rev}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:library/search.py", "exec"), module.__dict__)  # noqa: S102 - our own code
    return module


def _call(module: ModuleType, ctx: Any, actor: Actor, params: dict[str, Any]) -> Any:
    params = dict(params)
    tag = params.pop("tag", None)
    filters = module.Filters(library=params.get("library"),
                             published_from=dt.date.fromisoformat(params["published_from"])
                             if "published_from" in params else None)
    return module.search(ctx, actor, params.get("q", ""), dict([tag.split(":", 1)]) if tag else None,
                         filters=filters, sort=params.get("sort", "relevance"), page=params.get("page", 1))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(url: str, home: Path, modules: dict[str, ModuleType], n: int) -> dict[tuple[str, str], list[float]]:
    ctx = build_context(settings=Settings(home=home, db_url=url, audit_key="bench-read-scale"))
    with ctx.engine.connect() as conn:
        actor = Actor.of(get_user_row(conn, read_scale.READER))
    batches = read_scale.queries(random.Random(5), ctx.policy, n)
    batches["keyword by rating"] = [q | {"sort": "rating"} for q in batches["keyword"]]
    batches["keyword page 2"] = [q | {"page": 2} for q in batches["keyword"]]
    out: dict[tuple[str, str], list[float]] = {}
    for batch in batches.values():  # warm: the store's pages in the OS cache for both codes alike
        for params in batch:
            _call(modules["this"], ctx, actor, params)
    for kind, batch in batches.items():
        for params in batch:
            for name, module in modules.items():
                t0 = time.process_time()
                _call(module, ctx, actor, params)
                out.setdefault((kind, name), []).append(1000 * (time.process_time() - t0))
    ctx.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--store-dir", required=True)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--db-prefix", default="casebook_read_", help="PostgreSQL store names: PREFIX<size>")
    parser.add_argument("--base", default="main")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    modules = {args.base: revision_module(args.base), "this": new_search}
    results = {}
    for size in args.sizes:
        url = read_scale._pg_url(args.db_url, f"{args.db_prefix}{size}") if args.db_url else \
            f"sqlite:///{Path(args.store_dir) / f'read_{size}.db'}"
        results[size] = measure(url, Path(args.store_dir), modules, args.queries)
    backend = "PostgreSQL" if args.db_url else "SQLite"
    print(f"\n{backend}, CPU ms per search, p50 / p95 ({args.queries} queries per kind)")
    header = ["kind", "code"] + [f"{s:,}" for s in args.sizes] + ([f"{args.sizes[-1]:,}/{args.sizes[0]:,}"]
                                                                   if len(args.sizes) > 1 else [])
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    first = next(iter(results.values()))
    for kind, name in first:
        cells = []
        for size in args.sizes:
            v = results[size][(kind, name)]
            cells.append(f"{statistics.median(v):.1f} / {_p95(v):.1f}")
        if len(args.sizes) > 1:
            lo, hi = results[args.sizes[0]][(kind, name)], results[args.sizes[-1]][(kind, name)]
            cells.append(f"{statistics.median(hi) / statistics.median(lo):.1f} / {_p95(hi) / _p95(lo):.1f}")
        print(f"| {kind} | {name} | " + " | ".join(cells) + " |")
    for size in args.sizes:
        ratios = [f"{kind} {statistics.median(results[size][(kind, 'this')]) / statistics.median(results[size][(kind, args.base)]):.2f}"
                  for kind, name in first if name == "this"]
        print(f"this/{args.base} p50 at {size:,}: " + ", ".join(ratios))


if __name__ == "__main__":
    main()

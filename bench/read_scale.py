"""Reading at library scale: search and the case page on stores of 10,000 and 100,000 live published cases
(``casebook seed``), through a real HTTP server, side by side with the 100k/10k ratio.

Measured per store size: search API p50/p95 for keyword, tag and keyword + filter queries (one reader,
sequential), case page p50/p95 (sequential), and 16 concurrent readers on case pages (req/s, p99). The application is served as ``casebook up``
serves it (``casebook.web.serving``: one uvicorn worker per core unless --workers); the readers are threads with
their own HTTP connections. Goals (issue 15): search p95 < 150 ms and case page p95 < 100 ms at 100,000 cases, each
within 1.5x of its 10,000 figure; 16 concurrent readers p99 < 500 ms.

Usage: python bench/read_scale.py [--sizes 10000 100000] [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
Seeded stores are kept (SQLite files under --store-dir, PostgreSQL databases casebook_read_<size>, or
--db-prefix<size>) and reused;
--reseed builds them again.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from casebook import store  # noqa: E402
from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from notifications.sink import free_port  # noqa: E402

READER = "seed_department_head_marketing"  # reads widely, authors nothing
PASSWORD = "bench-read-scale"
LIVE_SHARE = 0.9  # seeded cases with a live published version


def _settings(url: str, home: Path) -> Settings:
    return Settings(home=home, db_url=url, audit_key="bench-read-scale")


def _pg_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def prepare(size: int, args: argparse.Namespace) -> str:
    """The store's URL, seeded with ``size`` live published cases (reused when already there)."""
    cases = round(size / LIVE_SHARE)
    if args.db_url:
        name = f"{args.db_prefix}{size}"
        admin = create_engine(args.db_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            present = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if present and args.reseed:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                present = None
            if not present:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url, fresh = _pg_url(args.db_url, name), not present
    else:
        path = Path(args.store_dir) / f"read_{size}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = args.reseed or not path.exists()
        if fresh:
            for old in path.parent.glob(path.name + "*"):
                old.unlink()
        url = f"sqlite:///{path}"
    if fresh:
        from access.accounts import set_password
        from casebook.seed import seed
        from casebook.core.users import Actor

        ctx = build_context(settings=_settings(url, Path(args.store_dir)))
        store.upgrade(ctx.engine)
        start = time.perf_counter()
        seed(ctx, cases, 1, published_share=LIVE_SHARE)
        set_password(ctx, Actor.system("bench"), READER, PASSWORD)
        print(f"seeded {cases:,} cases ({size:,} live published) in {time.perf_counter() - start:.0f} s", flush=True)
        ctx.close()
    return url


def serve(url: str, home: str, port: int, workers: int) -> None:
    """As ``casebook up`` serves (``casebook.web.serving``): ``workers`` processes, 0 for the setting's default
    (one per core)."""
    from casebook.web.serving import serve as serve_web

    settings = _settings(url, Path(home)).model_copy(update={"web_workers": workers})
    serve_web(build_context(settings=settings), "127.0.0.1", port)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def queries(rng: random.Random, policy: Any, n: int) -> dict[str, list[dict[str, Any]]]:
    from casebook.seed import EN_TOPICS, TOPICS

    facets = [(f, v) for f, spec in policy.doc.tag_facets.items() for v in spec.values]
    keyword = [{"q": rng.choice([rng.choice(TOPICS), rng.choice(TOPICS) + rng.choice(TOPICS), rng.choice(EN_TOPICS)])}
               for _ in range(n)]
    tag = [{"tag": "%s:%s" % rng.choice(facets)} for _ in range(n)]
    filtered = [{"q": rng.choice(TOPICS), "library": rng.choice(list(policy.doc.libraries)),
                 "published_from": "2024-01-01"} for _ in range(n)]
    return {"keyword": keyword, "tag": tag, "keyword+filter": filtered}


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=serve, args=(url, args.store_dir, port, args.workers),
                                                       daemon=False)
    proc.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    out: dict[str, float] = {}
    try:
        token = httpx.post(base + "/api/v1/auth/token", json={"username": READER, "password": PASSWORD},
                           timeout=30).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(5)
        policy = build_context(settings=_settings(url, Path(args.store_dir))).policy
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            keys: list[str] = []
            for tag in ("industry:retail", "industry:fmcg", "channel:douyin"):
                answer = http.get("/api/v1/search", params={"sort": "newest", "per_page": 100, "tag": tag}).json()
                keys += [h["key"] for h in answer["items"]]
            for kind, batch in queries(rng, policy, args.queries).items():
                http.get("/api/v1/search", params=batch[0])  # warm
                times = []
                for params in batch:
                    t0 = time.perf_counter()
                    r = http.get("/api/v1/search", params=params)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                out[f"search {kind} p50 ms"] = 1000 * statistics.median(times)
                out[f"search {kind} p95 ms"] = 1000 * _percentile(times, 0.95)
            times = []
            for key in rng.sample(keys, min(len(keys), args.queries)):
                t0 = time.perf_counter()
                r = http.get(f"/cases/{key}")
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, (key, r.status_code)
            out["case page p50 ms"] = 1000 * statistics.median(times)
            out["case page p95 ms"] = 1000 * _percentile(times, 0.95)
        latencies: list[float] = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.seconds

        def reader(seed: int) -> None:
            mine = random.Random(seed)
            with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                while time.perf_counter() < stop_at:
                    t0 = time.perf_counter()
                    r = http.get(f"/cases/{mine.choice(keys)}")
                    took = time.perf_counter() - t0
                    assert r.status_code == 200
                    with lock:
                        latencies.append(took)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out[f"{args.readers} readers req/s"] = len(latencies) / (time.perf_counter() - t0)
        out[f"{args.readers} readers p99 ms"] = 1000 * _percentile(latencies, 0.99)
    finally:
        proc.terminate()
        proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--db-url", default=None, help="PostgreSQL server (admin database URL); SQLite if absent")
    parser.add_argument("--db-prefix", default="casebook_read_", help="PostgreSQL store names: PREFIX<size>")
    parser.add_argument("--store-dir", default=str(Path(tempfile.gettempdir()) / "casebook-read-scale"))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--workers", type=int, default=0, help="web worker processes (0: one per core, as casebook up)")
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        url = prepare(size, args)
        results[size] = measure(url, args)
        print(f"measured {size:,}: " + ", ".join(f"{k} {v:.1f}" for k, v in results[size].items()), flush=True)
    backend = "PostgreSQL" if args.db_url else "SQLite"
    sizes = args.sizes
    print(f"\n{backend}: " + " | ".join(f"{s:,} cases" for s in sizes) + (" | ratio" if len(sizes) == 2 else ""))
    for metric in results[sizes[0]]:
        row = [f"{results[s][metric]:.1f}" for s in sizes]
        if len(sizes) == 2:
            row.append(f"{results[sizes[1]][metric] / results[sizes[0]][metric]:.2f}")
        print(f"| {metric} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

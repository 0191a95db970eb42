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
import os
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


def _reader_threads(base: str, headers: dict[str, str], keys: list[str], threads: int, first_seed: int,
                    start_at: float, stop_at: float) -> tuple[list[tuple[float, int]], float]:
    """``threads`` closed-loop readers of random case pages from ``start_at`` to ``stop_at`` (``time.time()``),
    each on its own keep-alive connection, every body read in full: each request's (latency, client port), and
    this process's CPU seconds over the run."""
    samples: list[tuple[float, int]] = []
    lock = threading.Lock()

    def reader(seed: int) -> None:
        mine = random.Random(seed)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            while time.time() < start_at:
                time.sleep(0.001)
            while time.time() < stop_at:
                t0 = time.perf_counter()
                with http.stream("GET", f"/cases/{mine.choice(keys)}") as r:
                    port = _client_port(r)   # before the body: a connection the server closes is gone after it
                    body = r.read()
                took = time.perf_counter() - t0
                assert r.status_code == 200 and body
                with lock:
                    samples.append((took, port))

    cpu = time.process_time()
    workers = [threading.Thread(target=reader, args=(first_seed + i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return samples, time.process_time() - cpu


def _client_port(response: httpx.Response) -> int:
    """The local port of the connection that carried ``response`` (which server worker holds it is looked up by
    that port), 0 if the transport does not say."""
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("client_addr") if stream is not None else None
    return int(address[1]) if address else 0


def _reader_process(base: str, headers: dict[str, str], keys: list[str], threads: int, first_seed: int,
                    seconds: float, ready: Any, start: Any, results: Any) -> None:
    """One client process: says it is ready (imports done), then reads from the start time it is given."""
    ready.put(None)
    start_at = start.get()
    results.put(_reader_threads(base, headers, keys, threads, first_seed, start_at, start_at + seconds))


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the serving process, uvicorn's supervisor and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += parents.get(current, [])
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_backends(name: str) -> list[int]:
    """PostgreSQL server processes serving database ``name`` (on this machine; their CPU is the request's too)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {name} " in title:
                out.append(int(entry.name))
    return out


def _connection_owners(port: int, pids: list[int]) -> dict[int, int]:
    """Client port -> the server process holding that connection (from /proc/net/tcp and each process's fds)."""
    inode_of_client: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                inode_of_client[f"socket:[{inode}]"] = int(remote.rsplit(":", 1)[1], 16)
    owners = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in inode_of_client:
                owners[inode_of_client[target]] = pid
    return owners


def _watch_owners(port: int, pids: list[int], stop_at: float) -> dict[int, int]:
    """Which server process held each client port, looked up every 0.1 s until ``stop_at`` (a connection the
    server closed and the client reopened shows up under its new port)."""
    owners: dict[int, int] = {}
    while time.time() < stop_at:
        owners.update(_connection_owners(port, pids))
        time.sleep(0.1)
    return owners


def readers(base: str, headers: dict[str, str], keys: list[str], server_pid: int, port: int,
            args: argparse.Namespace, database: str | None = None) -> dict[str, float]:
    """``args.readers`` concurrent readers of case pages for ``args.seconds``: req/s, p50/p99, and where the time
    went: server CPU per request (the serving processes, plus the database's server processes on PostgreSQL),
    the client's CPU per request, and how the connections and requests fell on the server's worker processes.

    The readers run as threads in this process (``--client-procs 1``) or spread over several processes, so that
    the client's own interpreter lock does not add to the latency it measures; either way each reader is one
    keep-alive connection sending the same requests and reading every body."""
    procs = max(1, min(args.client_procs, args.readers))
    share = [args.readers // procs + (1 if i < args.readers % procs else 0) for i in range(procs)]
    server = _descendants(server_pid)
    backends = _database_backends(database) if database else []
    if procs == 1:
        start_at = time.time() + 0.2
        stop_at = start_at + args.seconds
        cpu_before = {pid: _cpu_seconds(pid) for pid in server + backends}
        box: list[Any] = []
        thread = threading.Thread(target=lambda: box.append(
            _reader_threads(base, headers, keys, args.readers, 0, start_at, stop_at)))
        thread.start()
        owners = _watch_owners(port, server, stop_at)
        thread.join()
        parts = box
    else:
        spawn = multiprocessing.get_context("spawn")
        ready, start, results = spawn.Queue(), spawn.Queue(), spawn.Queue()
        clients = [spawn.Process(target=_reader_process, args=(base, headers, keys, n, sum(share[:i]), args.seconds,
                                                               ready, start, results)) for i, n in enumerate(share)]
        for c in clients:
            c.start()
        for _ in clients:
            ready.get()
        start_at = time.time() + 0.2
        stop_at = start_at + args.seconds
        cpu_before = {pid: _cpu_seconds(pid) for pid in server + backends}
        for _ in clients:
            start.put(start_at)
        owners = _watch_owners(port, server, stop_at)
        parts = [results.get() for _ in clients]
        for c in clients:
            c.join()
    elapsed = max(time.time(), stop_at) - start_at
    server_cpu = sum(_cpu_seconds(pid) - cpu_before[pid] for pid in server)
    database_cpu = sum(_cpu_seconds(pid) - cpu_before[pid] for pid in backends)
    samples = [s for part, _ in parts for s in part]
    latencies = [took for took, _ in samples]
    n = len(latencies)
    out = {f"{args.readers} readers req/s": n / elapsed,
           f"{args.readers} readers p50 ms": 1000 * _percentile(latencies, 0.50),
           f"{args.readers} readers p99 ms": 1000 * _percentile(latencies, 0.99),
           f"{args.readers} readers max ms": 1000 * max(latencies),
           "server CPU ms/request": 1000 * server_cpu / n,
           "client CPU ms/request": 1000 * sum(cpu for _, cpu in parts) / n}
    if backends:
        out["database CPU ms/request"] = 1000 * database_cpu / n
    by_worker: dict[int, list[float]] = {}
    ports_of: dict[int, set[int]] = {}
    for took, client_port in samples:
        pid = owners.get(client_port, 0)
        by_worker.setdefault(pid, []).append(took)
        ports_of.setdefault(pid, set()).add(client_port)
    balance = []
    for pid, times in sorted(by_worker.items(), key=lambda kv: -len(kv[1])):
        balance.append(f"{'worker ' + str(pid) if pid else 'unmapped'}: {len(ports_of[pid])} connections, "
                       f"{len(times)} requests, p50 {1000 * _percentile(times, 0.5):.0f} ms, "
                       f"p99 {1000 * _percentile(times, 0.99):.0f} ms")
    print("  readers by server worker: " + "; ".join(balance), flush=True)
    return out


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
            keys = []
            for tag in ("industry:retail", "industry:fmcg", "channel:douyin"):
                answer = http.get("/api/v1/search", params={"sort": "newest", "per_page": 100, "tag": tag}).json()
                keys += [h["key"] for h in answer["items"]]
            for kind, batch in queries(rng, policy, args.queries).items() if "search" in args.phases else ():
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
            if "page" in args.phases:
                out["case page p50 ms"] = 1000 * statistics.median(times)
                out["case page p95 ms"] = 1000 * _percentile(times, 0.95)
        if "readers" in args.phases:
            database = url.rsplit("/", 1)[1] if args.db_url else None
            out.update(readers(base, headers, keys, proc.pid, port, args, database))
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
    parser.add_argument("--client-procs", type=int, default=4,
                        help="processes the concurrent readers are spread over (1: threads of this process)")
    parser.add_argument("--phases", nargs="+", default=["search", "page", "readers"],
                        choices=["search", "page", "readers"], help="what to measure")
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

"""``casebook seed`` at scale: wall time and CPU (this process and its workers) for N cases into a fresh store,
side by side for this checkout and another one (``--against /work/main``), each in its own process.

Usage: python bench/seed_scale.py [--cases 20000] [--against /work/main] [--store-dir DIR]
       [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--db-prefix P]]   (databases made and dropped)
What bench/read_scale.py calls: seed(ctx, round(size / 0.9), 1, published_share=0.9) with the same audit key.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ONE = r'''
import json, os, sys, time
from pathlib import Path
from casebook import store
from casebook.assembly import build_context
from casebook.core.settings import Settings
from casebook.seed import seed
n, url, home = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
ctx = build_context(settings=Settings(home=home, db_url=url, audit_key="bench-read-scale"))
store.upgrade(ctx.engine)
wall, cpu = time.perf_counter(), time.process_time()
result = seed(ctx, n, 1, published_share=0.9)
children = os.times()
print(json.dumps({"wall": time.perf_counter() - wall, "parent_cpu": time.process_time() - cpu,
                  "workers_cpu": children.children_user + children.children_system, "versions": result.versions,
                  "events": result.events}))
'''


def run(checkout: Path, cases: int, url: str, home: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run([sys.executable, "-c", ONE, str(cases), url, str(home)], env=env, check=True,
                         capture_output=True, text=True, cwd=checkout).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--against", type=Path, help="another checkout, measured in the same run")
    parser.add_argument("--store-dir", type=Path, default=Path("/tmp/seed-scale"))
    parser.add_argument("--db-url", help="a PostgreSQL server URL (a database per run is made and dropped)")
    parser.add_argument("--db-prefix", default="seed_scale", help="name prefix of those databases")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    rows = []
    for label, checkout in [("this", here)] + ([("against", args.against.resolve())] if args.against else []):
        home = args.store_dir / label
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        if args.db_url:
            from sqlalchemy import create_engine

            name = f"{args.db_prefix}_{label}_{args.cases}"
            admin = create_engine(args.db_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = args.db_url.rsplit("/", 1)[0] + "/" + name
        else:
            url = f"sqlite:///{home}/seed.db"
        start = time.perf_counter()
        rows.append((label, run(checkout, args.cases, url, home)))
        print(f"{label}: {time.perf_counter() - start:.0f} s including start-up", flush=True)
        if args.db_url:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    print(f"{'checkout':10} {'wall s':>8} {'parent cpu s':>13} {'workers cpu s':>14} {'cpu ms/case':>12}")
    for label, r in rows:
        total = r["parent_cpu"] + r["workers_cpu"]
        print(f"{label:10} {r['wall']:8.1f} {r['parent_cpu']:13.1f} {r['workers_cpu']:14.1f} "
              f"{1000 * total / args.cases:12.2f}")
    if len(rows) == 2:
        a, b = rows[0][1], rows[1][1]
        print(f"ratio this/against: wall {a['wall'] / b['wall']:.2f}, cpu "
              f"{(a['parent_cpu'] + a['workers_cpu']) / (b['parent_cpu'] + b['workers_cpu']):.2f}")


if __name__ == "__main__":
    main()

"""CLI start-up: wall (and CPU) time of ``casebook --help`` and ``casebook case list`` against the floor of any
typer program, ``python -c 'import typer'``, measured side by side in one run (rounds interleaved, so a machine
whose speed drifts affects all three alike). ``case list`` runs on a small store (a few cases) made first; one
warm-up round compiles byte-code (into the run's own cache) and, where the code keeps one, fills the parsed policy
cache, as any earlier command on the store would.

Usage: python bench/cli_startup.py [--runs 7] [--cases 20] [--root CHECKOUT]
(``--root`` measures another checkout of Casebook, e.g. the main branch before a change, the same way.)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], env: dict[str, str], root: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the child) of one run; a failure stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _small_store(env: dict[str, str], cases: int, root: Path) -> None:
    """A store with users and ``cases`` cases (the synthetic seeder), so ``case list`` has rows to print."""
    python = [sys.executable, "-m", "casebook"]
    subprocess.run([*python, "init"], check=True, capture_output=True, env=env, cwd=root)
    subprocess.run([*python, "seed", "--cases", str(cases)], check=True, capture_output=True, env=env, cwd=root)


def _reader(env: dict[str, str], root: Path) -> str:
    """A seeded user who may read cases (an executive sees every department)."""
    code = ("from casebook.assembly import build_context\nfrom sqlalchemy import text\nctx = build_context()\n"
            "with ctx.engine.connect() as c:\n"
            "    print(c.execute(text(\"SELECT username FROM users WHERE role = 'executive' LIMIT 1\")).scalar_one())")
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env,
                          cwd=root).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--root", type=Path, default=ROOT, help="The Casebook checkout to measure.")
    args = parser.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as home:
        # Byte-code goes to a cache of this run's own (written by the warm-up round, for both checkouts alike), so
        # no figure includes compiling, even where the shell sets PYTHONDONTWRITEBYTECODE, and no checkout is written.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
            "CASEBOOK_HOME": home, "PYTHONPATH": str(root), "CASEBOOK_LOCALE": "en",
            "PYTHONPYCACHEPREFIX": os.path.join(home, "pycache")}
        _small_store(env, args.cases, root)
        reader = _reader(env, root)
        commands = {
            "python -c 'import typer'": [sys.executable, "-c", "import typer"],
            "casebook --help": [sys.executable, "-m", "casebook", "--help"],
            f"casebook case list --as {reader}": [sys.executable, "-m", "casebook", "case", "list", "--as", reader],
        }
        for cmd in commands.values():   # warm the file cache and byte-code once
            _timed(cmd, env, root)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                wall, cpu = _timed(cmd, env, root)
                walls[name].append(wall)
                cpus[name].append(cpu)
    base = next(iter(commands))
    load = os.getloadavg()
    print(f"{root}: {args.runs} interleaved runs each, {args.cases} cases in the store; load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"{'command':<40} {'wall median s':>13} {'wall min s':>10} {'cpu median s':>12} "
          f"{'wall / typer':>12} {'cpu / typer':>11}")
    for name in commands:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:<40} {wall:>13.2f} {min(walls[name]):>10.2f} {cpu:>12.2f} "
              f"{wall / statistics.median(walls[base]):>12.1f} {cpu / statistics.median(cpus[base]):>11.1f}")


if __name__ == "__main__":
    main()

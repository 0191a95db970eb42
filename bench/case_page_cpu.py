"""CPU time of one case page, in-process (issue 15 item 7): the page through the application (TestClient) and its
similar-cases box alone, as a department head on a seeded store (``bench/read_scale.py`` builds them).

CPU time (``time.process_time``) rather than wall clock, so a loaded machine still gives a usable A/B: run it
once with ``PYTHONPATH`` on each code tree, against the same store copy, alternating.

Usage: PYTHONPATH=<tree> python bench/case_page_cpu.py STORE.db [--home DIR] [--pages 30]
(``--home`` holds the store's ``data.keys``; the reader's password is read_scale's.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# The code measured is the tree on PYTHONPATH, never this folder (bench/redaction.py would shadow ``redaction``).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.core.users import Actor, get_user_row  # noqa: E402

READER, PASSWORD = "seed_department_head_marketing", "bench-read-scale"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--home", default=None)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from casebook.web.app import create_app
    from library import search

    home = Path(args.home) if args.home else Path(args.store).parent
    ctx = build_context(settings=Settings(home=home, db_url=f"sqlite:///{args.store}", audit_key="bench-read-scale"))
    http = TestClient(create_app(ctx))
    token = http.post("/api/v1/auth/token", json={"username": READER, "password": PASSWORD}).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    with ctx.engine.connect() as conn:
        actor = Actor.of(get_user_row(conn, READER))
    keys = [h.key for h in search.search(ctx, actor, "", {"industry": "retail"}, sort="newest",
                                         limit=args.pages + 5)]
    try:
        from library.similar import similar
    except ImportError:  # code from before library.similar
        similar = search.similar  # type: ignore[attr-defined]
    for key in keys[:5]:   # warm: templates, policy, jieba, numpy
        assert http.get(f"/cases/{key}").status_code == 200
        similar(ctx, actor, key)
    page, box = [], []
    for key in keys[5:]:
        t = time.process_time()
        assert http.get(f"/cases/{key}").status_code == 200
        page.append(time.process_time() - t)
        t = time.process_time()
        similar(ctx, actor, key)
        box.append(time.process_time() - t)
    print(f"case page CPU p50 {1000 * statistics.median(page):.1f} ms, mean {1000 * statistics.mean(page):.1f}; "
          f"similar cases CPU p50 {1000 * statistics.median(box):.1f} ms ({len(page)} pages)")
    ctx.close()


if __name__ == "__main__":
    main()

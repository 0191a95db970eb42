"""Scale-out: due items processed per second by 1, 2 and 4 workers on PostgreSQL, the same seeded data for
each (a fresh clone of one template database), measured in one run. Each worker is a process running the
same job functions a Prefect flow run executes (the reminders job, then delivery to a local SMTP server);
they share work through SKIP LOCKED batches and the idempotent outbox.

Usage: python bench/scale.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--cases 3000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from notifications.sink import SinkProcess  # noqa: E402
from casebook import store  # noqa: E402
from casebook.core.clock import FixedClock  # noqa: E402
from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.core.users import Actor, add_user  # noqa: E402
from lifecycle.service import CaseService  # noqa: E402

NOW = datetime(2026, 11, 1, 9, 0)


def _settings(url: str, port: int) -> Settings:
    return Settings(home=Path(tempfile.mkdtemp(prefix="cb-scale-")), db_url=url, audit_key="bench", smtp_port=port)


def seed(url: str, cases: int) -> None:
    ctx = build_context(settings=_settings(url, 25), clock=FixedClock(NOW))
    store.upgrade(ctx.engine)
    authors = []
    with ctx.sessions.begin() as session:
        for i in range(max(1, cases // 10)):
            u = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor="bench", username=f"a{i}",
                         role="staff", department="marketing", email=f"a{i}@example.test")
            authors.append(Actor.of(u))
    svc = CaseService(ctx)
    for i in range(cases):
        svc.create(authors[i % len(authors)], {"title": f"活動{i}", "library": "industry_benchmark",
                                               "classification": "internal", "department": "marketing",
                                               "project_start": "2026-09-01", "project_end": "2026-10-20"})
    ctx.close()


def work(url: str, port: int, barrier, times) -> None:  # type: ignore[no-untyped-def]
    """One worker: warm up (imports, analyzer), wait for the others, then decide and deliver."""
    from flows.registry import JOBS, deliver_notifications
    from redaction.analyzer import analyzer

    ctx = build_context(settings=_settings(url, port), clock=FixedClock(NOW))
    analyzer()
    barrier.wait()
    t0 = time.time()
    JOBS["submission_reminders"](ctx)
    t1 = time.time()
    deliver_notifications(ctx)
    t2 = time.time()
    times.put((t0, t1, t2))
    ctx.close()


def clone(admin_url: str, template: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop(admin_url: str, *names: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--cases", type=int, default=3000)
    args = parser.parse_args()
    template = "casebook_scale_template"
    drop(args.db_url, template)
    admin = create_engine(args.db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{template}"')
    admin.dispose()
    base = args.db_url.rsplit("/", 1)[0] + "/" + template
    start = time.perf_counter()
    seed(base, args.cases)
    create_engine(base).dispose()
    print(f"seeded {args.cases} draft cases due for a reminder in {time.perf_counter() - start:.0f} s")
    rates = {}
    names = []
    with SinkProcess() as sink:
        for workers in (1, 2, 4):
            name = f"casebook_scale_w{workers}"
            names.append(name)
            url = clone(args.db_url, template, name)
            mp = multiprocessing.get_context("spawn")
            barrier, times = mp.Barrier(workers), mp.Queue()
            procs = [mp.Process(target=work, args=(url, sink.port, barrier, times)) for _ in range(workers)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            spans = [times.get() for _ in procs]
            start, decided, delivered = (min(s[0] for s in spans), max(s[1] for s in spans),
                                         max(s[2] for s in spans))
            wall = delivered - start
            eng = create_engine(url)
            with eng.connect() as conn:
                sent = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar_one()
                keys = conn.execute(text("SELECT count(DISTINCT key) FROM outbox")).scalar_one()
            eng.dispose()
            rates[workers] = sent / wall
            print(f"{workers} worker(s): {sent} reminders decided and sent ({keys} outbox rows) in {wall:.1f} s "
                  f"= {rates[workers]:.0f} items/s ({rates[workers] / rates[1]:.2f}x one worker); deciding "
                  f"{sent / (decided - start):.0f}/s, delivering {sent / (delivered - decided):.0f}/s")
    drop(args.db_url, template, *names)


if __name__ == "__main__":
    main()

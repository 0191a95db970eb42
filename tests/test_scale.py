"""Scale-out on real processes: a Prefect server on 127.0.0.1 (its database on PostgreSQL), ``casebook deploy``
(twice: the second changes nothing), two process workers, flow runs over a seeded PostgreSQL case store.
Runs are executed by both workers and every due notification is sent exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from casebook import store
from casebook.core.clock import FixedClock
from casebook.assembly import build_context
from casebook.core.settings import Settings
from lifecycle.service import CaseService
from notifications.sink import SmtpSink, free_port
from tests.conftest import make_users

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("CASEBOOK_TEST_PG_URL")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PG, reason="CASEBOOK_TEST_PG_URL is not set: the scale-out "
                                                                  "test needs PostgreSQL (.ci/run sets it)")]
CASES = 24


def _database(stack: ExitStack, name: str) -> str:
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    stack.callback(drop)
    return PG.rsplit("/", 1)[0] + "/" + name


def _start(stack: ExitStack, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    proc = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT,
                            start_new_session=True)

    def stop() -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        handle.close()

    stack.callback(stop)
    return proc


def _wait_http(url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_two_workers_share_the_runs_and_send_each_notification_once(tmp_path: Path) -> None:
    with ExitStack() as stack:
        tag = f"{os.getpid()}"
        store_url = _database(stack, f"casebook_scale_{tag}")
        prefect_url = _database(stack, f"prefect_scale_{tag}").replace("+psycopg", "+asyncpg")
        sink = stack.enter_context(SmtpSink())
        port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CASEBOOK_", "PREFECT_"))}
        base.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                    DO_NOT_TRACK="1", PREFECT_UI_ENABLED="false", PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
                    PREFECT_WORKER_QUERY_SECONDS="2", PREFECT_WORKER_PREFETCH_SECONDS="2",
                    CASEBOOK_HOME=str(tmp_path / "home"), CASEBOOK_DB_URL=store_url, CASEBOOK_AUDIT_KEY="scale",
                    CASEBOOK_SMTP_PORT=str(sink.port))
        server_env = base | {"PREFECT_API_DATABASE_CONNECTION_URL": prefect_url}
        _start(stack, [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                       str(port), "--no-services"], server_env, tmp_path / "server.log")
        _wait_http(f"http://127.0.0.1:{port}/api/health", 120)

        # Seed the case store: drafts whose submission deadline is three days away (one reminder each).
        settings = Settings(home=tmp_path / "home", db_url=store_url, audit_key="scale", smtp_port=sink.port)
        ctx = build_context(settings=settings, clock=FixedClock(datetime(2026, 11, 2, 9)))
        store.upgrade(ctx.engine)
        users = make_users(ctx, *[(f"author{i}", "staff", "marketing") for i in range(CASES)])
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE users SET email = username || '@example.test'"))
        svc = CaseService(ctx)
        for i in range(CASES):
            svc.create(users[f"author{i}"], {"title": f"社群活動{i}", "library": "industry_benchmark",
                                             "classification": "internal", "department": "marketing",
                                             "project_start": "2026-09-01", "project_end": "2026-10-20"})
        ctx.close()
        now = (datetime(2026, 11, 1, 9, 0)).isoformat()

        first = subprocess.run([sys.executable, "-m", "casebook", "deploy", "--pool", "scale-test", "--json"],
                               env=base, capture_output=True, text=True, timeout=180, cwd=ROOT)
        assert first.returncode == 0, first.stderr[-2000:]
        second = subprocess.run([sys.executable, "-m", "casebook", "deploy", "--pool", "scale-test", "--json"],
                                env=base, capture_output=True, text=True, timeout=180, cwd=ROOT)
        assert {o["action"] for o in json.loads(second.stdout)} == {"unchanged"}, second.stdout

        for name in ("w1", "w2"):
            _start(stack, [sys.executable, "-m", "prefect", "worker", "start", "--pool", "scale-test", "--type",
                           "process", "--name", name, "--limit", "1"], base | {"CASEBOOK_WORKER_NAME": name},
                   tmp_path / f"{name}.log")

        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        stack.enter_context(temporary_settings({PREFECT_API_URL: base["PREFECT_API_URL"]}))
        runs = [run_deployment(f"{job}/{job}", parameters={"now": now}, timeout=0)
                for job in ["submission_reminders"] * 4 + ["deliver_notifications"] * 2]
        deadline = time.monotonic() + 400
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                states = [client.read_flow_run(r.id).state for r in runs]
                if all(s is not None and s.is_final() for s in states):
                    break
                time.sleep(3)
        assert all(s.is_completed() for s in states), [s.name if s else None for s in states]

        check = create_engine(store_url)
        with check.connect() as conn:
            workers = set(conn.execute(text("SELECT worker FROM job_runs WHERE status = 'completed'")).scalars())
        check.dispose()
        assert workers == {"w1", "w2"}, workers
        keys = sink.keys()
        reminders = [k for k in keys if k.startswith("submission_reminder|")]
        assert len(reminders) == CASES and all(keys[k] == 1 for k in keys), keys

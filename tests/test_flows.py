"""Flows: every policy schedule has a job, cron evaluation, real Prefect flow runs, ``casebook up`` serving
and stopping cleanly, and ``casebook simulate``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows.cron import first_fire_on
from flows.registry import JOBS

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")


def test_every_scheduled_flow_has_a_job_and_every_job_a_schedule(policy) -> None:
    assert set(policy.doc.flows) == set(JOBS)


@pytest.mark.parametrize(("cron", "day", "expected"), [
    ("0 10 1 * *", date(2026, 12, 1), "10:00"), ("0 10 1 * *", date(2026, 12, 2), None),
    ("0 9-18 * * 1-5", date(2026, 11, 23), "09:00"), ("0 9-18 * * 1-5", date(2026, 11, 22), None),
    ("0 3 1 1,4,7,10 *", date(2027, 4, 1), "03:00"), ("*/5 * * * *", date(2028, 2, 29), "00:00"),
])
def test_cron_first_fire(cron: str, day: date, expected: str | None) -> None:
    at = first_fire_on(cron, day, TZ)
    assert (at.strftime("%H:%M") if at else None) == expected


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEBOOK_", "PREFECT_"))}
    env.update(CASEBOOK_HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "prefect"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", CASEBOOK_SMTP_PORT="2")
    return env


def _casebook(*args: str, env: dict[str, str], timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casebook", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.slow
def test_a_flow_runs_for_real_on_prefect(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _casebook("init", env=env).returncode == 0
    done = _casebook("flows", "run", "submission_reminders", "--now", "2026-11-20T09:00", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout[done.stdout.index("{"):])
    assert counts["reminders"] == 0 and counts["notifications_sent"] == 0
    assert "Finished in state Completed" in done.stdout + done.stderr            # Prefect's own run log


@pytest.mark.slow
def test_up_serves_the_flows_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = _env(tmp_path)
    from notifications.sink import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "casebook", "up", "--demo", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    try:
        deadline = time.monotonic() + 600    # the demo lives through two years first (about 30-150 s here)
        while "Ctrl-C stops" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        from flows.registry import JOBS

        assert f"serving {len(JOBS)} flows" in seen and "demo data: 12 users" in seen, seen
        import httpx

        page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert page.status_code == 200 and "password" in page.text             # the web tier is up too
        token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", timeout=10,
                           json={"username": "demo_author", "password": "casebook-demo"})
        assert token.status_code == 200
        time.sleep(8)                                                     # let serve register its deployments
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, (seen + out)[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_simulate_reports_exactly_the_documented_keys_and_no_duplicates() -> None:
    from casebook.simulate import KEYS, simulate

    result = simulate(cases=25, days=75, seed=3)
    assert tuple(result) == KEYS
    assert result["cases"] == 25 and result["submitted"] > 0 and result["published"] > 0
    assert result["reminders"] > 0 and result["notifications_sent"] > 0
    assert result["duplicate_notifications"] == 0

"""Serving the pages and the API with uvicorn: ``CASEBOOK_WEB_WORKERS`` processes (0, the default: one per core).

One Python process runs one request's Python at a time, so concurrent readers of the case page queue behind each
other on one core while the others idle. Several workers are safe: each builds its own context (engine, policy,
access-log queue) from the same settings; SQLite in WAL mode lets their readers run side by side, every write
still takes the store's write lock, and each worker's queued views go to the access log in their own batches
(a batch is one transaction moving one shard head, so two workers never fork a chain) and are flushed when that
worker stops. With one worker the application is served in this process, on the context given.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from casebook.core.context import AppContext
from casebook.core.settings import Settings

#: How the serving process hands the listen address and an injected "now" to its workers (settings go as
#: ``CASEBOOK_*`` variables, which every worker's ``Settings()`` reads).
ENV_HOST, ENV_NOW, ENV_WORKERS = "CASEBOOK_SERVE_HOST", "CASEBOOK_SERVE_NOW", "CASEBOOK_SERVE_WORKERS"
#: The workers' shared table of live connections (``casebook.web.balance``), created by the serving process.
ENV_BALANCE = "CASEBOOK_SERVE_BALANCE"


def worker_count(settings: Settings) -> int:
    """The configured number of web workers; 0 means one per core."""
    return settings.web_workers or os.cpu_count() or 1


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as the ``CASEBOOK_*`` variables that rebuild them in another process."""
    out = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            out[f"CASEBOOK_{name.upper()}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return out


def worker_app() -> Any:
    """uvicorn's application factory in each worker process: a context of its own from the environment."""
    from access.partners import LIMITER
    from casebook.assembly import build_context
    from casebook.web.app import create_app

    LIMITER.processes = int(os.environ.get(ENV_WORKERS) or 1)   # each worker admits its share of a partner's rate
    app: Any = create_app(build_context(now=os.environ.get(ENV_NOW) or None), listen_host=os.environ.get(ENV_HOST))
    if os.environ.get(ENV_BALANCE):
        from casebook.web.balance import Rebalance, SharedCounts

        app = Rebalance(app, SharedCounts(Path(os.environ[ENV_BALANCE])))
    _settle()
    return app


def _settle() -> None:
    """Move what start-up built (policy, catalogs, templates, mapped classes) out of the collector's reach: a full
    collection walked it all, 140-170 ms of CPU about once every 80 pages, stalling every request on the worker
    (measured by h-readers15)."""
    gc.collect()
    gc.freeze()


def serve(ctx: AppContext, host: str, port: int, *, workers: int | None = None, now: str | None = None) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM); ``workers`` defaults to ``worker_count``. Call it from the main
    thread of a process: with several workers, uvicorn's supervisor handles the signals."""
    import uvicorn

    count = workers or worker_count(ctx.settings)
    if count <= 1:
        from casebook.web.app import create_app

        app = create_app(ctx, listen_host=host)
        _settle()
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
        return
    from casebook.web.balance import create_table

    handle, table = tempfile.mkstemp(prefix="casebook-web-", suffix=".balance")
    os.close(handle)
    create_table(Path(table))
    os.environ.update(settings_environment(ctx.settings) | {ENV_HOST: host, ENV_NOW: now or "",
                                                            ENV_WORKERS: str(count), ENV_BALANCE: table})
    _stdin_for_workers()
    try:
        uvicorn.run("casebook.web.serving:worker_app", factory=True, host=host, port=port, workers=count,
                    log_level="warning")
    finally:
        Path(table).unlink(missing_ok=True)


def _stdin_for_workers() -> None:
    """uvicorn hands its workers this process's stdin by number; in a process started by ``multiprocessing``
    stdin is a private ``/dev/null`` file the workers cannot inherit (they would fail to start): give none."""
    try:
        inherited = sys.stdin is not None and sys.stdin.fileno() == 0
    except (AttributeError, OSError, ValueError):
        inherited = False
    if not inherited:
        sys.stdin = None  # type: ignore[assignment]


def _serve_settings(settings: Settings, host: str, port: int, workers: int, now: str | None) -> None:
    from casebook.assembly import build_context

    serve(build_context(now=now, settings=settings), host, port, workers=workers, now=now)


def serve_in_background(ctx: AppContext, host: str, port: int, *, now: str | None = None) -> Any:
    """``serve`` in a child process (its own main thread, so the supervisor can run there while this process
    serves the flows); returns the process, stopped with ``terminate()``."""
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(
        target=_serve_settings, args=(ctx.settings, host, port, worker_count(ctx.settings), now),
        name="web", daemon=False)
    proc.start()
    _wait_listening(proc, host, port)
    return proc


def _wait_listening(proc: Any, host: str, port: int, timeout: float = 120.0) -> None:
    """Return once the server accepts connections (so what is printed next is true), or its process ended."""
    import socket
    import time

    address = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while proc.is_alive() and time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)

"""Real delivery endpoints for tests: the SMTP sink (aiosmtpd) as ``sink``, and as ``hook`` an HTTP endpoint on
127.0.0.1 that apprise's ``json://`` plugin posts to, standing for a role chat group (posts kept with their path)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from notifications.sink import SmtpSink, free_port


class _Hook(BaseHTTPRequestHandler):
    posts: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append({"path": self.path, "json": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def hook() -> Iterator[tuple[int, list[dict]]]:
    """(port, posts): ``json://127.0.0.1:{port}/name`` is a chat group whose posts land in ``posts``."""
    _Hook.posts = []
    server = HTTPServer(("127.0.0.1", free_port()), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Hook.posts
    server.shutdown()
    server.server_close()


@pytest.fixture
def sink(ctx) -> Iterator[SmtpSink]:
    """A running SMTP sink the test's context delivers to."""
    with SmtpSink() as s:
        ctx.settings = ctx.settings.model_copy(update={"smtp_port": s.port, "smtp_host": "127.0.0.1"})
        yield s

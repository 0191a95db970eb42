"""A local SMTP sink (aiosmtpd on 127.0.0.1): what ``casebook simulate`` and the tests deliver mail to.
It keeps every message and counts duplicates by the outbox key each message carries."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self.sink.refuse:
            return "451 4.3.0 try again later"
        msg = message_from_bytes(envelope.content, policy=email_policy.default)
        with self.sink.lock:
            self.sink.messages.append(msg)
        return "250 OK"


class SmtpSink:
    """``with SmtpSink() as sink:`` → ``sink.port``, ``sink.messages``; ``sink.refuse = True`` answers 451."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.refuse = False
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port or free_port())
        self.port = self._controller.port

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def keys(self) -> Counter:
        with self.lock:
            return Counter(m["X-Casebook-Key"] for m in self.messages)

    def count(self) -> int:
        return len(self.messages)

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.keys().values() if n > 1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the sink, test servers, benches)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

"""A local SMTP sink (aiosmtpd on 127.0.0.1): what ``casebook simulate``, the benches and the tests deliver mail
to. It counts duplicates by the outbox key each message carries.

``SmtpSink`` runs in the caller's process and keeps every message (tests read them); ``SinkProcess`` runs in a
process of its own and keeps only the keys, so a long simulation's sender does not share its GIL with the server.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path
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
        if set(envelope.rcpt_tos) & self.sink.unknown:
            return "550 5.1.1 mailbox unavailable"
        msg = message_from_bytes(envelope.content, policy=email_policy.default)
        with self.sink.lock:
            self.sink.messages.append(msg)
        return "250 OK"


class _Counted:
    """Counts from ``keys()``: one key per accepted message."""

    def keys(self) -> Counter:
        raise NotImplementedError

    def count(self) -> int:
        return sum(self.keys().values())

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.keys().values() if n > 1)


class SmtpSink(_Counted):
    """``with SmtpSink() as sink:`` → ``sink.port``, ``sink.messages``; ``sink.refuse = True`` answers 451, an address
    in ``sink.unknown`` 550."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.refuse = False
        self.unknown: set[str] = set()  # recipients answered 550 (a permanent refusal)
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



class _KeyLog:
    """Appends each accepted message's outbox key to a file, one line each, before answering 250."""

    def __init__(self, path: Path) -> None:
        self.out = path.open("a", encoding="utf-8", buffering=1)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser(policy=email_policy.default).parsebytes(envelope.content)
        key = "".join(str(headers.get("X-Casebook-Key", "")).splitlines())
        self.out.write(key + "\n")
        return "250 OK"


class SinkProcess(_Counted):
    """``with SinkProcess() as sink:`` → ``sink.port``, ``sink.count()``, ``sink.duplicates()``; the server is
    ``python -m notifications.sink`` in a child process, stopped on exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.log = Path(tempfile.mkdtemp(prefix="casebook-sink-")) / "keys.txt"
        self.log.touch()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "SinkProcess":
        self._proc = subprocess.Popen([sys.executable, "-m", "notifications.sink", "--port", str(self.port),
                                       "--log", str(self.log)])
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"the SMTP sink did not start on 127.0.0.1:{self.port}") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=20)

    def keys(self) -> Counter:
        return Counter(self.log.read_text(encoding="utf-8").splitlines())



def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for the sink, test servers, benches)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    """``python -m notifications.sink --port P --log FILE``: serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = Controller(_KeyLog(args.log), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

"""Keeping the web workers' keep-alive connections even (``casebook up`` with several workers).

uvicorn's workers share one listening socket, and an asyncio worker woken by it accepts every connection queued
at that moment; a keep-alive connection then stays with the worker that accepted it. A burst of new connections
(16 readers opening the case page at once, a proxy opening its pool) can so land on one worker while another
idles: measured 15 of 16 connections on one of two workers, whose requests waited ten times longer.

The fix works at request boundaries and in plain HTTP: the workers publish how many live connections each holds
in a small shared table (a file mapped by every worker), and a worker holding more than its share answers the
request it is serving with ``Connection: close``. The client opens a new connection for its next request, which
goes to the shared accept queue, where a less busy worker picks it up first (a busy worker's event loop waits for
its interpreter lock). A response is never delayed or changed otherwise; one reconnect costs well under a
millisecond on a loopback or LAN connection.

A connection counts as live from its first request until it has been idle for ``IDLE_SECONDS`` (uvicorn's
keep-alive timeout closes it then) or until this worker asked it to close.
"""

from __future__ import annotations

import fcntl
import math
import mmap
import os
import struct
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SLOT = struct.Struct("<qq")      # (worker pid, live connections); pid 0 is a free slot
SLOTS = 64                       # Settings.web_workers is at most 64
IDLE_SECONDS = 5.0               # uvicorn's default keep-alive timeout (Config.timeout_keep_alive)
CLOSE = (b"connection", b"close")


def create_table(path: Path) -> None:
    """The empty shared table, written by the serving process before its workers start."""
    path.write_bytes(bytes(SLOT.size * SLOTS))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SharedCounts:
    """This worker's slot in the shared table, and the other workers' counts."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 - mapped for the worker's lifetime
        self._map = mmap.mmap(self._file.fileno(), SLOT.size * SLOTS)
        self.pid = os.getpid()
        fcntl.flock(self._file, fcntl.LOCK_EX)   # two workers starting at once never claim one slot
        try:
            for index in range(SLOTS):
                pid, _ = SLOT.unpack_from(self._map, index * SLOT.size)
                if pid in (0, self.pid) or not _alive(pid):   # a worker uvicorn restarted reuses a dead one's
                    self.slot = index
                    SLOT.pack_into(self._map, index * SLOT.size, self.pid, 0)
                    break
            else:
                raise RuntimeError(f"more than {SLOTS} web workers share {path}")
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def publish(self, live: int) -> None:
        SLOT.pack_into(self._map, self.slot * SLOT.size, self.pid, live)

    def fair_share(self) -> int:
        """The most live connections one worker should hold: all workers' connections spread evenly, rounded
        up (a worker that died without clearing its slot is not counted)."""
        total = workers = 0
        for index in range(SLOTS):
            pid, live = SLOT.unpack_from(self._map, index * SLOT.size)
            if pid and (pid == self.pid or _alive(pid)):
                total, workers = total + live, workers + 1
        return math.ceil(total / max(workers, 1))


class Rebalance:
    """ASGI middleware: counts this worker's live connections and closes a connection at the end of its
    response while the worker holds more than its share (see the module docstring)."""

    def __init__(self, app: ASGIApp, counts: SharedCounts, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.counts, self.clock = app, counts, clock
        self.seen: dict[tuple[str, int], float] = {}   # connection (client address) -> its last request

    def _live(self, now: float) -> int:
        for client in [c for c, at in self.seen.items() if now - at > IDLE_SECONDS]:
            del self.seen[client]
        return len(self.seen)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not client:
            await self.app(scope, receive, send)
            return
        client = (client[0], client[1])
        self.seen[client] = self.clock()
        self.counts.publish(self._live(self.seen[client]))

        async def send_balanced(message: Message) -> None:
            # Decided when the answer starts, not when the request came: the requests in flight meanwhile may
            # already have closed their connections, and closing them all would overshoot the other way.
            if message["type"] == "http.response.start":
                live = self._live(self.clock())
                if live > self.counts.fair_share():
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                    message["headers"] = headers + [CLOSE]
                    self.seen.pop(client, None)
                    live = len(self.seen)
                self.counts.publish(live)
            await send(message)

        await self.app(scope, receive, send_balanced)

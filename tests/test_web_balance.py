"""Even keep-alive connections across web workers (``casebook.web.balance``): a worker holding more than its
share of live connections answers with ``Connection: close``; one within its share answers unchanged."""

from __future__ import annotations

import asyncio
import os

from casebook.web.balance import Rebalance, SharedCounts, create_table, SLOT


async def _app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _answer(app: Rebalance, port: int) -> list[tuple[bytes, bytes]]:
    sent: list = []

    async def send(message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "client": ("127.0.0.1", port)}, None, send))
    assert sent[1]["body"] == b"ok"
    return sent[0]["headers"]


def test_a_worker_over_its_share_closes_connections_until_even(tmp_path) -> None:
    table = tmp_path / "balance"
    create_table(table)
    mine = SharedCounts(table)
    other_pid = os.getppid()                       # a live process standing in for the other worker
    with open(table, "r+b") as f:
        f.seek(SLOT.size * (mine.slot + 1))
        f.write(SLOT.pack(other_pid, 2))           # the other worker holds 2 connections
    app = Rebalance(_app, mine, clock=lambda: 100.0)
    closed = [(b"connection", b"close") in _answer(app, port) for port in range(1000, 1006)]
    # 2 here and 2 there are even; the third (3 against 2, share ceil(5/2) = 3) still fits; the fourth does not
    assert closed == [False, False, False, True, True, True]
    assert len(app.seen) == 3


def test_idle_connections_stop_counting(tmp_path) -> None:
    table = tmp_path / "balance"
    create_table(table)
    now = [0.0]
    app = Rebalance(_app, SharedCounts(table), clock=lambda: now[0])
    for port in range(1000, 1004):
        assert (b"connection", b"close") not in _answer(app, port)   # the only worker: its share is everything
    now[0] = 60.0
    _answer(app, 2000)
    assert list(app.seen) == [("127.0.0.1", 2000)]

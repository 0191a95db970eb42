"""Hash chains kept in shards: the machinery the audit log and the access log share.

A stream (``audit``, ``access``) is split into shards; each shard is its own chain. Every row carries its shard,
its position ``seq`` in that shard (1, 2, …), the hash of its predecessor and the HMAC of its own canonical
content, so changing, deleting, inserting or reordering rows out of band breaks the chain at that row. Each
shard's first row links to a keyed genesis value, which binds a row to its shard (moving one to another shard
breaks both). One head row per shard (its last ``seq`` and hash) is moved by every append: writers of different
shards never wait for each other, writers of one shard are serialised by its head row, so a shard never forks.

The head alone cannot reveal a tail deleted together with a head rolled back: the keyed checkpoints
(``casebook.core.checkpoint``, in the database and outside it) can.
"""

from __future__ import annotations

import hmac
import json
import weakref
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Prepared, insert_if_absent

GENESIS = "0" * 64
BIG = BigInteger().with_variant(Integer, "sqlite")


class ChainedRow:
    """Columns every chained row has (a mixin for the rows' model): insertion order, shard, position, links."""

    id: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=True)
    shard: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BIG)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ShardHead:
    """A shard's tip (a mixin for the heads' model): locked by each append to that shard."""

    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BIG)
    hash: Mapped[str] = mapped_column(String(64))


def shard_of(subject: str, shards: int) -> int:
    """The shard of a subject: a stable hash (CRC-32, the same in every process and release) modulo ``shards``."""
    return zlib.crc32(subject.encode()) % shards


def genesis(key: bytes, stream: str, shard: int) -> str:
    """What a shard's first row links to. The audit stream's shard 0 continues the single chain that came before
    shards (its genesis stays all zeros); every other shard starts from a keyed value naming stream and shard."""
    if stream == "audit" and shard == 0:
        return GENESIS
    return hmac.digest(key, f"casebook:{stream}:shard:{shard}".encode(), "sha256").hex()


def canonical(fields: dict[str, Any], names: tuple[str, ...]) -> bytes:
    """The bytes a row's HMAC covers: the named fields as sorted JSON, ``at`` as UTC ISO-8601 to the microsecond."""
    content = {name: fields.get(name) for name in names}
    content["at"] = fields["at"].astimezone(timezone.utc).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def row_hash(key: bytes, fields: dict[str, Any], names: tuple[str, ...]) -> str:
    """HMAC-SHA256 of a row's canonical content (one C call; the same as ``hmac.new(…).hexdigest()``)."""
    return hmac.digest(key, canonical(fields, names), "sha256").hex()


class Chain:
    """One stream's rows table and heads table, and how to append to and check them.

    ``rows`` needs columns ``id`` (insertion order), ``shard``, ``seq``, ``prev_hash``, ``hash`` and a unique
    (shard, seq); ``heads`` needs ``shard`` (primary key), ``seq`` and ``hash``.
    """

    def __init__(self, stream: str, rows: Table, heads: Table, hashed: tuple[str, ...]) -> None:
        self.stream, self.rows, self.heads, self.hashed = stream, rows, heads, hashed
        h = heads.c
        self._read_head = select(h.seq, h.hash).where(h.shard == bindparam("b_shard"))
        self._read_head_locked = self._read_head.with_for_update()
        self._move = heads.update().where(h.shard == bindparam("b_shard")).values(
            seq=bindparam("new_seq"), hash=bindparam("new_hash"))
        # Compare-and-set from this process's last tip: saves the head's read on the hot path.
        self._move_if = Prepared(self._move.where(h.seq == bindparam("old_seq"), h.hash == bindparam("old_hash")))
        self.insert_one = Prepared(rows.insert())
        # The tip this process last wrote, per engine and shard. Only a hint: a stale one (another writer, a
        # rolled-back append) fails the compare-and-set and costs one locked read, never a fork.
        self._tips: "weakref.WeakKeyDictionary[Engine, dict[int, tuple[int, str]]]" = weakref.WeakKeyDictionary()

    def link(self, key: bytes, shard: int, rows: list[dict[str, Any]], prev_seq: int, prev_hash: str) -> None:
        """Number and hash ``rows`` in order after (prev_seq, prev_hash) of ``shard``."""
        for row in rows:
            row["shard"], row["seq"], row["prev_hash"] = shard, prev_seq + 1, prev_hash
            row["hash"] = row_hash(key, row, self.hashed)
            prev_seq, prev_hash = row["seq"], row["hash"]

    def append(self, conn: Connection, key: bytes, shard: int, rows: list[dict[str, Any]]) -> None:
        """Link ``rows`` after ``shard``'s tip and move its head past them, inside the caller's transaction.

        By compare-and-set from this process's last tip, else after a locked read (FOR UPDATE on PostgreSQL;
        SQLite writers are serialised by BEGIN IMMEDIATE). The caller inserts the rows (one, or many at once)."""
        tips = self._tips.get(conn.engine)
        if tips is None:
            tips = self._tips.setdefault(conn.engine, {})
        tip = tips.get(shard)
        last = rows[-1]
        if tip is not None:
            self.link(key, shard, rows, *tip)
            if self._move_if.execute(conn, {"new_seq": last["seq"], "new_hash": last["hash"], "b_shard": shard,
                                            "old_seq": tip[0], "old_hash": tip[1]}) == 1:
                tips[shard] = (last["seq"], last["hash"])
                return
        read = self._read_head_locked if conn.dialect.name == "postgresql" else self._read_head
        head = conn.execute(read, {"b_shard": shard}).one_or_none()
        if head is None:
            # A shard's first append: writers racing here create its head once (ON CONFLICT DO NOTHING waits for
            # the other's insert), then read it like any other head.
            insert_if_absent(conn, self.heads, {"shard": shard, "seq": 0, "hash": genesis(key, self.stream, shard)},
                             ["shard"])
            head = conn.execute(read, {"b_shard": shard}).one()
        start = (head.seq, head.hash)
        self.link(key, shard, rows, *start)
        conn.execute(self._move, {"new_seq": last["seq"], "new_hash": last["hash"], "b_shard": shard})
        tips[shard] = (last["seq"], last["hash"])

    def heads_now(self, conn: Connection) -> dict[int, tuple[int, str]]:
        """Every shard's head as stored: {shard: (seq, hash)}."""
        h = self.heads.c
        return {r.shard: (r.seq, r.hash) for r in conn.execute(select(h.shard, h.seq, h.hash))}

    def hashes_at(self, conn: Connection, points: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The stored hash of each (shard, seq) asked for that exists."""
        wanted = list(points)
        r = self.rows.c
        found: dict[tuple[int, int], str] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            stmt = select(r.shard, r.seq, r.hash).where(tuple_(r.shard, r.seq).in_(chunk))
            found |= {(row.shard, row.seq): row.hash for row in conn.execute(stmt)}
        return found

    def verify(self, conn: Connection, key: bytes, batch: int = 5000) -> "ChainCheck":
        """Walk every shard in order; report the first row whose content, link, position or order is wrong, and
        any shard whose head does not match the end of its rows."""
        heads = self.heads_now(conn)
        r = self.rows.c
        shards = sorted(set(heads) | set(conn.execute(select(r.shard).distinct()).scalars()))
        checked = 0
        for shard in shards:
            expected_prev, expected_seq, last_id = genesis(key, self.stream, shard), 1, None
            for row in self._walk(conn, shard, batch):
                if row.seq != expected_seq:
                    where = expected_seq if row.seq > expected_seq else row.seq
                    return ChainCheck(False, checked, shard, where, f"sequence gap: expected row {expected_seq}, "
                                      f"found {row.seq} (deleted or inserted)")
                if row.prev_hash != expected_prev:
                    return ChainCheck(False, checked, shard, row.seq, "link broken: prev_hash does not match the "
                                      "previous row")
                if not hmac.compare_digest(row_hash(key, row._asdict(), self.hashed), row.hash):
                    return ChainCheck(False, checked, shard, row.seq, "content changed: hash does not match")
                if last_id is not None and row.id <= last_id:
                    return ChainCheck(False, checked, shard, row.seq, "order changed: row ids do not follow the "
                                      "chain (reordered)")
                expected_prev, expected_seq, last_id, checked = row.hash, row.seq + 1, row.id, checked + 1
            head_seq, head_hash = heads.get(shard, (0, genesis(key, self.stream, shard)))
            if head_seq != expected_seq - 1 or head_hash != expected_prev:
                return ChainCheck(False, checked, shard, expected_seq,
                                  f"chain tip mismatch: head says row {head_seq}, rows end at {expected_seq - 1} "
                                  "(tail deleted or head changed)")
        return ChainCheck(True, checked, shards=len(shards))

    def _walk(self, conn: Connection, shard: int, batch: int) -> Iterator[Any]:
        """A shard's rows in chain order, read in keyset batches through the unique (shard, seq) index."""
        r = self.rows.c
        columns = [r.id, r.shard, r.seq, r.prev_hash, r.hash, *(r[name] for name in self.hashed
                                                                 if name not in ("shard", "seq", "prev_hash"))]
        after = 0
        while True:
            rows = conn.execute(select(*columns).where(r.shard == shard, r.seq > after)
                                .order_by(r.seq).limit(batch)).all()
            if not rows:
                return
            yield from rows
            after = rows[-1].seq


@dataclass(frozen=True)
class ChainCheck:
    """A stream's verdict: every shard intact, or the first broken row (shard and position) and why."""

    ok: bool
    checked: int
    shard: int | None = None
    broken_seq: int | None = None
    reason: str = ""
    shards: int = 0

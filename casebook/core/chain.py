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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timezone
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import BoundRows, Prepared, bulk_bind, bulk_insert_bound, insert_if_absent

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


_HOLE_SEQ, _HOLE_PREV = "\x00seq\x00", "\x00prev_hash\x00"
_HOLE = json.dumps({"prev_hash": _HOLE_PREV, "seq": _HOLE_SEQ}, ensure_ascii=False,
                   separators=(",", ":"))[1:-1].encode()


def canonical_parts(fields: dict[str, Any], names: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A row's canonical content around its link: ``head + link_bytes(prev_hash, seq) + tail`` equals
    ``canonical`` of the row once linked. For bulk loads, where another process serialises the rows before the
    writer knows where they go in the chain (the sorted names must have ``prev_hash`` and ``seq`` adjacent)."""
    head, sep, tail = canonical(fields | {"prev_hash": _HOLE_PREV, "seq": _HOLE_SEQ}, names).partition(_HOLE)
    if not sep:
        raise ValueError("prev_hash and seq are not adjacent in the canonical content")
    return head, tail


def link_bytes(prev_hash: str, seq: int) -> bytes:
    """What fills the hole ``canonical_parts`` leaves."""
    return b'"prev_hash":"%s","seq":%d' % (prev_hash.encode(), seq)


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

    def link_bound(self, key: bytes, shard: int, bound: BoundRows, parts: list[tuple[bytes, bytes]],
                   prev_seq: int, prev_hash: str) -> tuple[int, str]:
        """``link`` for rows already bound (``casebook.core.db.bulk_bind``) whose canonical content was
        serialised around the link (``canonical_parts``): only the HMAC is left. Returns the new tip."""
        i_shard, i_seq, i_prev, i_hash = (bound.slot(name) for name in ("shard", "seq", "prev_hash", "hash"))
        digest = hmac.digest
        for row, (head, tail) in zip(bound.batch, parts):
            prev_seq += 1
            row[i_shard], row[i_seq], row[i_prev] = shard, prev_seq, prev_hash
            prev_hash = row[i_hash] = digest(key, head + link_bytes(prev_hash, prev_seq) + tail, "sha256").hex()
        return prev_seq, prev_hash

    def append(self, conn: Connection, key: bytes, shard: int, rows: list[dict[str, Any]]) -> None:
        """Link ``rows`` after ``shard``'s tip and move its head past them, inside the caller's transaction.

        By compare-and-set from this process's last tip, else after a locked read (FOR UPDATE on PostgreSQL;
        SQLite writers are serialised by BEGIN IMMEDIATE). The caller inserts the rows (one, or many at once)."""

        def linker(prev_seq: int, prev_hash: str) -> tuple[int, str]:
            self.link(key, shard, rows, prev_seq, prev_hash)
            return rows[-1]["seq"], rows[-1]["hash"]

        self.append_with(conn, key, shard, linker)

    def append_bound(self, conn: Connection, key: bytes, shard: int, bound: BoundRows,
                     parts: list[tuple[bytes, bytes]]) -> None:
        """``append`` for bound rows (``link_bound``); the caller inserts them (``bulk_insert_bound``)."""
        self.append_with(conn, key, shard, lambda seq, prev: self.link_bound(key, shard, bound, parts, seq, prev))

    def append_with(self, conn: Connection, key: bytes, shard: int,
                    linker: Callable[[int, str], tuple[int, str]]) -> None:
        """Link rows after ``shard``'s tip with ``linker`` (given the tip, it numbers and hashes the rows and
        returns their last (seq, hash)) and move the head there."""
        tips = self._tips.get(conn.engine)
        if tips is None:
            tips = self._tips.setdefault(conn.engine, {})
        tip = tips.get(shard)
        if tip is not None:
            last = linker(*tip)
            if self._move_if.execute(conn, {"new_seq": last[0], "new_hash": last[1], "b_shard": shard,
                                            "old_seq": tip[0], "old_hash": tip[1]}) == 1:
                tips[shard] = last
                return
        read = self._read_head_locked if conn.dialect.name == "postgresql" else self._read_head
        head = conn.execute(read, {"b_shard": shard}).one_or_none()
        if head is None:
            # A shard's first append: writers racing here create its head once (ON CONFLICT DO NOTHING waits for
            # the other's insert), then read it like any other head.
            insert_if_absent(conn, self.heads, {"shard": shard, "seq": 0, "hash": genesis(key, self.stream, shard)},
                             ["shard"])
            head = conn.execute(read, {"b_shard": shard}).one()
        last = linker(head.seq, head.hash)
        conn.execute(self._move, {"new_seq": last[0], "new_hash": last[1], "b_shard": shard})
        tips[shard] = last

    def bind(self, dialect: Any, rows: list[dict[str, Any]]) -> "BoundChain | None":
        """Rows bound for an insert and serialised around their link, without a connection (a seeding worker
        process does this; the writer then only hashes and inserts: ``insert_bound``). None for no rows."""
        if not rows:
            return None
        parts = [canonical_parts(row, self.hashed) for row in rows]
        unlinked = {"shard": 0, "seq": 0, "prev_hash": "", "hash": ""}
        bound = bulk_bind(dialect, self.rows, [row | unlinked for row in rows])
        assert bound is not None
        return BoundChain(bound, parts)

    def insert_bound(self, conn: Connection, key: bytes, shard: int, rows: "BoundChain | None") -> None:
        """Append rows ``bind`` bound to ``shard`` and insert them, inside the caller's transaction."""
        if rows is not None:
            self.append_bound(conn, key, shard, rows.rows, rows.parts)
            bulk_insert_bound(conn, self.rows, rows.rows)

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


class BoundChain(NamedTuple):
    """Chained rows bound for insertion (``Chain.bind``): their driver values and canonical content around
    the link."""

    rows: BoundRows
    parts: list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class ChainCheck:
    """A stream's verdict: every shard intact, or the first broken row (shard and position) and why."""

    ok: bool
    checked: int
    shard: int | None = None
    broken_seq: int | None = None
    reason: str = ""
    shards: int = 0

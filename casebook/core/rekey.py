"""Re-encrypting what is stored under a keyring's current key (``casebook keys rotate``).

Walks every column of type ``SealedJSON`` / ``SealedText`` in the metadata by primary key, one transaction per
batch: an envelope under another key is decrypted and encrypted again under the current one; plain values and
envelopes already under the current key are left alone. Stopping half-way loses at most one batch; running
again continues, and a run with nothing left to do changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import JSON, and_, MetaData, Table, Text, func, select, tuple_, type_coerce, update
from sqlalchemy.engine import Engine

from casebook.core.crypto import Keyring, SealedJSON, SealedText, envelope_kid, reseal

Progress = Callable[[int], None]


def sealed_columns(metadata: MetaData) -> list[tuple[Table, str]]:
    """(table, column name) of every encrypted column, in a stable order."""
    return [(table, column.name) for table in metadata.sorted_tables for column in table.columns
            if isinstance(column.type, (SealedJSON, SealedText))]


def _raw(table: Table, name: str) -> Any:
    """The column as stored (envelopes not decrypted)."""
    column = table.c[name]
    return type_coerce(column, JSON() if isinstance(column.type, SealedJSON) else Text())


def count_rows(engine: Engine, metadata: MetaData) -> int:
    """How many stored values a rotation looks at (for its progress bar)."""
    with engine.connect() as conn:
        return sum(int(conn.execute(select(func.count()).select_from(table)
                                    .where(table.c[name].is_not(None))).scalar_one())
                   for table, name in sealed_columns(metadata))


def _key(table: Table) -> Any:
    """The primary key as one expression (a tuple for a composite key), for keyset walks and row updates."""
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _batches(engine: Engine, table: Table, name: str, batch: int) -> Iterator[list[tuple[Any, Any]]]:
    """(primary key, stored value) pairs in key order, ``batch`` at a time."""
    columns = list(table.primary_key.columns)
    after = None
    while True:
        with engine.connect() as conn:
            stmt = select(*columns, _raw(table, name)).where(table.c[name].is_not(None)) \
                .order_by(*columns).limit(batch)
            rows = conn.execute(stmt if after is None else stmt.where(_key(table) > after)).all()
        if not rows:
            return
        pairs = [(r[0] if len(columns) == 1 else tuple(r[:-1]), r[-1]) for r in rows]
        yield pairs
        after = pairs[-1][0] if len(columns) == 1 else tuple_(*pairs[-1][0])


def rotate(engine: Engine, metadata: MetaData, keyring: Keyring, *, batch: int = 500,
           progress: Progress | None = None) -> dict[str, int]:
    """Re-encrypt every envelope not under ``keyring.current``; counts of values seen and re-encrypted."""
    counts = {"seen": 0, "reencrypted": 0}
    for table, name in sealed_columns(metadata):
        for rows in _batches(engine, table, name, batch):
            stale = [(ident, value) for ident, value in rows
                     if envelope_kid(value) not in (None, keyring.current)]
            if stale:
                with engine.begin() as conn:
                    for ident, value in stale:
                        values = ident if isinstance(ident, tuple) else (ident,)
                        match = and_(*(c == v for c, v in zip(table.primary_key.columns, values)))
                        conn.execute(update(table).where(match).values({name: reseal(keyring, value)}))
            counts["seen"] += len(rows)
            counts["reencrypted"] += len(stale)
            if progress:
                progress(len(rows))
    return counts


def key_use(engine: Engine, metadata: MetaData) -> dict[str, int]:
    """How many stored values each key id encrypts (``plain`` for values stored unencrypted)."""
    out: dict[str, int] = {}
    for table, name in sealed_columns(metadata):
        for rows in _batches(engine, table, name, 1000):
            for _ident, value in rows:
                kid = envelope_kid(value) or "plain"
                out[kid] = out.get(kid, 0) + 1
    return out

"""Keyed checkpoints of every chain's heads: what lets ``verify`` see a deleted tail whose head was rolled back.

A checkpoint records, for every shard of the audit log and the access log, the head's position and hash, and is
itself signed (HMAC with the audit key) and chained to the checkpoint before it. Because each row's hash covers
everything before it in its shard, the hash at a checkpointed position vouches for the whole shard up to there.

- In the database (``audit_checkpoints``): ``verify`` checks the checkpoints' own chain and that every position of
  the newest one still holds the recorded hash, so rows deleted behind it (with their head rolled back) are found,
  unless the checkpoints are cut back too.
- Outside the database (``casebook audit checkpoint`` writes the same document to a file or stdout): an attacker
  with the database alone cannot reach it, so ``verify --checkpoint FILE`` finds any truncation or rewrite of what
  it covers, whatever was done to the database.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core import access_log, audit
from casebook.core.chain import GENESIS, Chain
from casebook.core.db import Base, UTCDateTime

FORMAT = "casebook-audit-checkpoint/1"
STREAMS: dict[str, Chain] = {"audit": audit.CHAIN, "access": access_log.CHAIN}


class AuditCheckpoint(Base):
    """One signed snapshot of every shard's head, chained to the one before."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    heads: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


_TABLE = AuditCheckpoint.__table__


def _sign(key: bytes, doc: dict[str, Any]) -> str:
    content = {"format": FORMAT, "id": doc["id"], "at": doc["at"], "heads": doc["heads"],
               "prev_hash": doc["prev_hash"]}
    return hmac.digest(key, json.dumps(content, sort_keys=True, separators=(",", ":")).encode(), "sha256").hex()


def _document(row: Any) -> dict[str, Any]:
    return {"format": FORMAT, "id": row.id, "at": row.at.isoformat(timespec="microseconds"), "heads": row.heads,
            "prev_hash": row.prev_hash, "hash": row.hash}


def write(conn: Connection, key: bytes, at: datetime) -> dict[str, Any]:
    """Record every shard's head now as the next checkpoint (in the caller's transaction); its document, which
    the caller also keeps outside the database. Two writers racing get one checkpoint and one key conflict."""
    last = conn.execute(select(_TABLE.c.id, _TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)).one_or_none()
    heads = {name: {str(shard): [seq, digest] for shard, (seq, digest) in sorted(chain.heads_now(conn).items())}
             for name, chain in STREAMS.items()}
    doc = {"format": FORMAT, "id": (last.id + 1) if last else 1, "at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
           "heads": heads, "prev_hash": last.hash if last else GENESIS}
    doc["hash"] = _sign(key, doc)
    conn.execute(_TABLE.insert(), {"id": doc["id"], "at": at, "heads": heads, "prev_hash": doc["prev_hash"],
                                   "hash": doc["hash"]})
    return doc


def check_document(conn: Connection, key: bytes, doc: dict[str, Any]) -> str:
    """Problems with one checkpoint document against the store ('' when none): its signature, and that every
    position it records still holds the recorded hash."""
    if doc.get("format") != FORMAT or not all(k in doc for k in ("id", "at", "heads", "prev_hash", "hash")):
        return f"not a {FORMAT} document"
    if not hmac.compare_digest(_sign(key, doc), str(doc["hash"])):
        return f"checkpoint {doc['id']}: signature does not match (edited, or made with another key)"
    for name, chain in STREAMS.items():
        points = {(int(shard), int(seq)): digest for shard, (seq, digest) in doc["heads"].get(name, {}).items()
                  if int(seq) > 0}
        found = chain.hashes_at(conn, points)
        for (shard, seq), digest in sorted(points.items()):
            if (shard, seq) not in found:
                return (f"checkpoint {doc['id']}: {name} shard {shard} has no row {seq} (truncated behind the "
                        "checkpoint)")
            if not hmac.compare_digest(found[(shard, seq)], digest):
                return f"checkpoint {doc['id']}: {name} shard {shard} row {seq} differs (rewritten behind it)"
    return ""


def verify(conn: Connection, key: bytes) -> tuple[int, str]:
    """The stored checkpoints: (how many, first problem or ''). Their chain and signatures, then the newest one
    against the rows (its hashes vouch for everything before them)."""
    expected_prev, expected_id, newest = GENESIS, 1, None
    for row in conn.execute(select(_TABLE).order_by(_TABLE.c.id)):
        doc = _document(row)
        if row.id != expected_id:
            return expected_id - 1, f"checkpoint {expected_id} missing (found {row.id})"
        if row.prev_hash != expected_prev:
            return expected_id - 1, f"checkpoint {row.id}: link to the previous checkpoint broken"
        if not hmac.compare_digest(_sign(key, doc), row.hash):
            return expected_id - 1, f"checkpoint {row.id}: signature does not match"
        expected_prev, expected_id, newest = row.hash, row.id + 1, doc
    if newest is None:
        return 0, ""
    return newest["id"], check_document(conn, key, newest)


def stored(conn: Connection, checkpoint_id: int) -> str | None:
    """The hash of stored checkpoint ``checkpoint_id``, or None when there is none."""
    return conn.execute(select(_TABLE.c.hash).where(_TABLE.c.id == checkpoint_id)).scalar_one_or_none()

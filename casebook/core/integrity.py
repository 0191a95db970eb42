"""Everything ``casebook audit verify`` checks that needs no domain knowledge: each chain's every shard, the stored
checkpoints (the whole across shards), and optionally a checkpoint kept outside the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from casebook.core import checkpoint
from casebook.core.chain import ChainCheck


@dataclass(frozen=True)
class Finding:
    """One part's verdict: what was checked, whether it holds, how many items, and the first problem."""

    part: str
    ok: bool
    checked: int
    problem: str = ""
    shard: int | None = None
    position: int | None = None


def _chain(part: str, check: ChainCheck) -> Finding:
    if check.ok:
        return Finding(part, True, check.checked, f"{check.shards} shard(s)")
    return Finding(part, False, check.checked, f"shard {check.shard} row {check.broken_seq}: {check.reason}",
                   check.shard, check.broken_seq)


def check(conn: Connection, key: bytes, external: dict[str, Any] | None = None) -> list[Finding]:
    """The chains, the stored checkpoints and (given) an external checkpoint document, each as a Finding."""
    out = [_chain(f"{name} log", chain.verify(conn, key)) for name, chain in checkpoint.STREAMS.items()]
    count, problem = checkpoint.verify(conn, key)
    out.append(Finding("checkpoints", not problem, count, problem))
    if external is not None:
        problem = checkpoint.check_document(conn, key, external)
        if not problem:
            stored = checkpoint.stored(conn, int(external["id"]))
            if stored is None:
                problem = f"checkpoint {external['id']} is missing from the database (checkpoints cut back)"
            elif stored != external["hash"]:
                problem = f"checkpoint {external['id']} in the database differs from the file"
        out.append(Finding("external checkpoint", not problem, 1, problem))
    return out

"""Encrypting content stored before encryption at rest (or before its case was classified into an encrypted
classification): the plain titles, version documents, stored renderings and outbox messages quoting every case of
policy's ``security.encrypted_classifications``, and their search entries re-indexed as keyed hashes.

Part of ``casebook keys rotate``; a batch of cases per transaction, so it can stop and resume, and a second run
finds nothing to do (what it sealed is an envelope now)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Text, and_, func, select, type_coerce, update

from casebook.core.context import AppContext
from casebook.core.crypto import Keyring, is_envelope, seal
from library.index import indexer_for
from lifecycle.models import Case, CaseVersion
from notifications.models import OutboxMessage
from redaction.models import VersionRendering

CASES, VERSIONS, RENDERINGS, OUTBOX = (Case.__table__, CaseVersion.__table__, VersionRendering.__table__,
                                      OutboxMessage.__table__)


def _sealed_cases(ctx: AppContext, keyring: Keyring):  # type: ignore[no-untyped-def]
    return CASES.c.classification.in_(sorted(keyring.sealed))


def _quotes_case(payload: dict[str, Any], keys: set[str]) -> bool:
    """Whether a notification's payload carries one of these cases (its reference holds the title)."""
    return any(isinstance(v, dict) and v.get("key") in keys for v in payload.values())


def count_cases(ctx: AppContext, keyring: Keyring) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(CASES).where(_sealed_cases(ctx, keyring))).scalar_one())


def seal_existing(ctx: AppContext, keyring: Keyring, *, batch: int = 100,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Encrypt the plain content of every case of an encrypted classification; counts of what was sealed."""
    counts = {"cases": 0, "titles": 0, "versions": 0, "renderings": 0, "messages": 0, "reindexed": 0}
    if not keyring.sealed:
        return counts
    after = 0
    while True:
        with ctx.engine.begin() as conn:
            cases = conn.execute(select(CASES.c.id, CASES.c.key, type_coerce(CASES.c.title, Text()).label("title"),
                                        CASES.c.published_version_no)
                                 .where(_sealed_cases(ctx, keyring), CASES.c.id > after)
                                 .order_by(CASES.c.id).limit(batch)).all()
            if not cases:
                break
            ids = [c.id for c in cases]
            touched: set[int] = set()
            for c in cases:
                if not is_envelope(c.title):
                    conn.execute(update(CASES).where(CASES.c.id == c.id).values(title=seal(keyring, c.title)))
                    counts["titles"] += 1
                    touched.add(c.id)
            for table, key, what in ((VERSIONS, VERSIONS.c.document, "versions"),
                                     (RENDERINGS, RENDERINGS.c.patch, "renderings")):
                pk = list(table.primary_key.columns)
                for row in conn.execute(select(*pk, table.c.case_id.label("cid"), type_coerce(key, JSON()).label("v"))
                                        .where(table.c.case_id.in_(ids))):
                    value, case_id = row.v, row.cid
                    if value is not None and not is_envelope(value):
                        match = and_(*(c == row[i] for i, c in enumerate(pk)))
                        conn.execute(update(table).where(match).values({key.name: seal(keyring, value)}))
                        counts[what] += 1
                        touched.add(case_id)
            keys = [c.key for c in cases if c.key]
            for ident, value in conn.execute(select(OUTBOX.c.id, type_coerce(OUTBOX.c.payload, JSON()))
                                             .where(OUTBOX.c.subject_id.in_(keys))):
                if isinstance(value, dict) and not is_envelope(value) and _quotes_case(value, set(keys)):
                    conn.execute(update(OUTBOX).where(OUTBOX.c.id == ident).values(payload=seal(keyring, value)))
                    counts["messages"] += 1
            indexer = indexer_for(ctx)
            for c in cases:  # entries written while the case was stored plain may hold its words: hashes now
                if c.id in touched and c.published_version_no is not None:
                    indexer.index_version(conn, c.id, c.published_version_no)
                    counts["reindexed"] += 1
        counts["cases"] += len(cases)
        after = cases[-1].id
        if progress:
            progress(len(cases))
    return counts

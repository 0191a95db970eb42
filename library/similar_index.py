"""Writing the similar-cases index (read by ``library.similar``): the MinHash signature of each case's published
version and its LSH band buckets (``library.similar_models``).

Each version already stores its trigram fingerprint (``casebook.core.textnorm.fingerprint``: the sorted 64-bit
hashes of its character trigrams). The signature is the minimum of ``SIGNATURE`` independent re-hashings of those
hashes, computed with numpy over the stored hashes (one vector operation per version): they are already uniform
64-bit hashes, so a multiply-shift family on them is a MinHash family, and no trigram is hashed again through a
Python call. Written when a version is published (``library.index``: the publish listener and seeding) and by
``backfill`` for stores from before this index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.db import bulk_insert
from lifecycle.document import document_fingerprint
from lifecycle.models import Case, CaseVersion
from library.similar_models import SimilarBand, SimilarSignature

CASES, VERSIONS = Case.__table__, CaseVersion.__table__
SIGNATURES, BANDS_TABLE = SimilarSignature.__table__, SimilarBand.__table__
#: Minima per signature, and how they are cut into bands (BANDS x ROWS = SIGNATURE). Cases with trigram
#: Jaccard similarity J share at least one bucket with probability 1 - (1 - J**ROWS)**BANDS: about 0.1 at
#: J = 0.2, 0.64 at 0.4, 0.9 at 0.5. Changing these needs the signatures written again (``backfill``).
SIGNATURE, BANDS, ROWS = 64, 16, 4
_SEED = 20261203


@lru_cache(maxsize=1)
def _family() -> tuple[Any, Any]:
    """The re-hashings: ``((h ^ x_i) * m_i) >> 32`` with fixed random masks x_i and odd multipliers m_i."""
    import numpy as np

    rng = np.random.default_rng(_SEED)
    masks = rng.integers(0, 2**63, size=SIGNATURE, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, size=SIGNATURE, dtype=np.uint64)
    odd = rng.integers(0, 2**63, size=SIGNATURE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return masks, odd


def signature(fingerprint: bytes) -> bytes | None:
    """The MinHash of a stored fingerprint (``SIGNATURE`` little-endian 32-bit minima); None for an empty one."""
    import numpy as np

    hashes = np.frombuffer(fingerprint, dtype="<u8")
    if hashes.size == 0:
        return None
    masks, odd = _family()
    with np.errstate(over="ignore"):
        minima = (((hashes[:, None] ^ masks) * odd) >> np.uint64(32)).min(axis=0)
    return minima.astype("<u4").tobytes()


def buckets(sig: bytes) -> list[int]:
    """One signed 64-bit bucket per band: a hash of the band's number and its minima."""
    width = ROWS * 4
    return [int.from_bytes(hashlib.blake2b(bytes([band]) + sig[band * width:(band + 1) * width],
                                           digest_size=8).digest(), "little", signed=True) for band in range(BANDS)]


def estimates(sig: bytes, others: list[bytes]) -> list[float]:
    """Estimated Jaccard similarity of a signature to each of ``others``: the share of equal minima (one vector
    operation for them all)."""
    import numpy as np

    if not others:
        return []
    theirs = np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), -1)
    return [float(x) for x in (theirs == np.frombuffer(sig, dtype="<u4")).mean(axis=1)]


def estimate(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return estimates(a, [b])[0]


# ----- writing: when a version is published (library.index), seeding, and the backfill -----
def remember(conn: Connection, items: Iterable[tuple[int, int]]) -> None:
    """Store the signature and buckets of these (case id, published version number) pairs, replacing the
    case's earlier ones. Versions written before fingerprints were stored are fingerprinted here."""
    wanted = dict(items)
    if not wanted:
        return
    ids = list(wanted)
    prints = {r.case_id: r.shingles for r in conn.execute(
        select(VERSIONS.c.case_id, VERSIONS.c.number, VERSIONS.c.shingles).where(VERSIONS.c.case_id.in_(ids)))
        if wanted.get(r.case_id) == r.number}
    for case_id in [c for c in ids if prints.get(c) is None]:
        document = conn.execute(select(VERSIONS.c.document).where(
            VERSIONS.c.case_id == case_id, VERSIONS.c.number == wanted[case_id])).scalar()
        prints[case_id] = document_fingerprint(document) if document is not None else b""
    signatures, bands = signature_rows({case_id: (wanted[case_id], fp) for case_id, fp in prints.items()})
    conn.execute(BANDS_TABLE.delete().where(BANDS_TABLE.c.case_id.in_(ids)))
    conn.execute(SIGNATURES.delete().where(SIGNATURES.c.case_id.in_(ids)))
    bulk_insert(conn, SIGNATURES, signatures)
    bulk_insert(conn, BANDS_TABLE, bands)


def signature_rows(prints: dict[int, tuple[int, bytes]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The signature and bucket rows of {case id: (published version number, fingerprint)} (no store access:
    seeding workers build them, ``remember`` stores them)."""
    signatures, bands = [], []
    for case_id, (version_no, fingerprint) in prints.items():
        sig = signature(fingerprint)
        if sig is None:
            continue
        signatures.append({"case_id": case_id, "version_no": version_no, "signature": sig})
        bands += [{"case_id": case_id, "bucket": b} for b in dict.fromkeys(buckets(sig))]
    return signatures, bands


def backfill(ctx: AppContext, *, batch: int = 500, progress: Any = None) -> int:
    """Signatures for published versions that have none (a store from before this index, or a restored one):
    a batch per transaction, resumable, a no-op when everything is done. Returns the number written."""
    done, after = 0, 0
    while True:
        with ctx.engine.begin() as conn:
            todo = [(r.id, r.published_version_no) for r in conn.execute(
                select(CASES.c.id, CASES.c.published_version_no)
                .outerjoin(SIGNATURES, SIGNATURES.c.case_id == CASES.c.id)
                .where(CASES.c.published_version_no.is_not(None), CASES.c.id > after,
                       or_(SIGNATURES.c.case_id.is_(None), SIGNATURES.c.version_no != CASES.c.published_version_no))
                .order_by(CASES.c.id).limit(batch))]
            remember(conn, todo)
        if not todo:
            return done
        done, after = done + len(todo), todo[-1][0]
        if progress:
            progress(len(todo))

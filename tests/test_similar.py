"""Similar cases through the MinHash LSH index: signatures estimate trigram similarity and bucket by band (the
box itself, publication, the backfill and archived cases: tests/test_read_scale.py)."""

from __future__ import annotations

from casebook.core.textnorm import fingerprint, fingerprint_set, jaccard
from library import similar_index


def test_signatures_estimate_trigram_similarity() -> None:
    a = fingerprint("秋季新品茶飲快閃店在商場中庭開幕,三天吸引了大量年輕會員到店打卡。" * 2)
    b = fingerprint("秋季新品茶飲快閃店在商場中庭開幕,三天吸引了少量老年會員到店閒逛。" * 2)
    c = fingerprint("Quarterly loyalty newsletter for hardware stores, sent by post.")
    sa, sb, sc = (similarity_index_signature(x) for x in (a, b, c))
    assert similar_index.estimate(sa, sa) == 1.0
    truth = jaccard(fingerprint_set(a), fingerprint_set(b))
    assert abs(similar_index.estimate(sa, sb) - truth) < 0.2 and similar_index.estimate(sa, sc) < 0.1
    assert similar_index.signature(b"") is None
    assert len(set(similar_index.buckets(sa))) == similar_index.BANDS
    assert similar_index.buckets(sa) != similar_index.buckets(sc)


def similarity_index_signature(blob: bytes) -> bytes:
    sig = similar_index.signature(blob)
    assert sig is not None and len(sig) == 4 * similar_index.SIGNATURE
    return sig

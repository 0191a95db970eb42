"""Similar cases through the MinHash LSH index: signatures estimate trigram similarity, the index follows
publication and the backfill, and the box keeps to what the viewer may read (never archived, never itself)."""

from __future__ import annotations

from sqlalchemy import func, select

from casebook.core.textnorm import fingerprint, fingerprint_set, jaccard
from library import similar_index
from library.similar import similar
from tests.web_helpers import people, published_case


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


def test_similar_cases_follow_publication_backfill_and_the_read_rule(ctx, full_case) -> None:
    users = people(ctx)
    near = published_case(ctx, users, full_case, "public")
    twin = published_case(ctx, users, full_case | {"title": full_case["title"] + "二期"}, "public")
    published_case(ctx, users, {**full_case, "target_users": "hardware store owners", "body": {
        k: f"A quarterly postal newsletter for hardware stores ({k})." for k in full_case["body"]}}, "public")
    found = [h.key for h in similar(ctx, users["intern"], near)]
    assert found[0] == twin and near not in found   # the twin first: its text is nearly the same
    assert found and all(h.title for h in similar(ctx, users["intern"], near))
    # A store from before the index: the backfill writes what publication would have, once.
    with ctx.engine.begin() as conn:
        conn.execute(similar_index.BANDS_TABLE.delete())
        conn.execute(similar_index.SIGNATURES.delete())
    assert similar(ctx, users["intern"], near) == []
    assert similar_index.backfill(ctx) == 3 and similar_index.backfill(ctx) == 0
    assert twin in [h.key for h in similar(ctx, users["intern"], near)]
    with ctx.engine.connect() as conn:
        bands = conn.execute(select(func.count()).select_from(similar_index.BANDS_TABLE)).scalar_one()
    assert bands == 3 * similar_index.BANDS
    # Archived cases are never recommended, even to those who may still find them.
    from lifecycle.service import CaseService

    svc = CaseService(ctx)
    svc.fire(users["com"], twin, "retire", reason="out of date")
    svc.fire(users["ops"], twin, "archive")
    assert twin not in [h.key for h in similar(ctx, users["ops"], near)]

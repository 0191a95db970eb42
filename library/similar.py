"""Similar cases from the stored fingerprints through an index: MinHash LSH (``library.similar_index``).

"Similar cases" reads the members of the case's own band buckets (at most ``PER_BUCKET`` each, newest first: the
work is bounded whatever a bucket's size), ranks those candidates by estimated Jaccard similarity of their
published versions' trigrams (the same marketing scenario first), and keeps, best first, the ones the viewer may
read by the read rule itself (``CaseService.may_view``), never an archived one nor the case itself. Titles come
from the stored rendering at the viewer's own tier of each case (``audience_for``/``tier_key``, the rule that
renders the case page), through its search entry. Nothing compares the case with the whole library, and nothing
here renders text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, union_all
from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.db import reads
from casebook.core.users import Actor
from lifecycle.service import CaseService
from library.index import ENTRIES, fact, visibility
from library.search import Hit, _hits
from library.similar_index import BANDS, BANDS_TABLE, CASES, SIGNATURES, buckets, estimates
from redaction.stored import tier_key
from redaction.tiers import audience_for

#: Members read from one bucket (the newest cases): a common bucket costs no more than a rare one.
PER_BUCKET = 25
#: Readable candidates gathered per hit shown, so the same scenario can come first among the most similar.
GATHER = 4
#: The case columns the read rule and the tier need (no title or content).
_RULE_COLUMNS = [CASES.c.id, CASES.c.key, CASES.c.state, CASES.c.classification, CASES.c.department,
                 CASES.c.owner_id, CASES.c.author_id, CASES.c.published_version_no, CASES.c.withdrawn_at]
_SCENARIO = fact("s", "")[:2]   # the prefix of scenario tokens in an entry's facts


#: The newest ``PER_BUCKET`` members of each of a signature's buckets, in one statement built once.
_MEMBERS = union_all(*(select(q.c.case_id) for q in (
    select(BANDS_TABLE.c.case_id).where(BANDS_TABLE.c.bucket == bindparam(f"b{band}"),
                                        BANDS_TABLE.c.case_id != bindparam("b_case"))
    .order_by(BANDS_TABLE.c.case_id.desc()).limit(PER_BUCKET).subquery() for band in range(BANDS))))


def _candidates(conn: Connection, case_id: int, sig: bytes) -> tuple[list[int], dict[int, float]]:
    """Ids of the cases sharing a bucket with this signature, most similar (estimated) first, and their
    estimated similarity."""
    params = {f"b{band}": bucket for band, bucket in enumerate(buckets(sig))} | {"b_case": case_id}
    found = {r[0] for r in conn.execute(_MEMBERS, params)}
    if not found:
        return [], {}
    ids, sigs = zip(*conn.execute(select(SIGNATURES.c.case_id, SIGNATURES.c.signature)
                                  .where(SIGNATURES.c.case_id.in_(list(found)))).all())
    share = dict(zip(ids, estimates(sig, list(sigs))))
    return sorted(share, key=lambda i: (-share[i], -i)), share


def _scenario(facts: str | None) -> str | None:
    return next((t for t in (facts or "").split() if t.startswith(_SCENARIO)), None)


def _tier(ctx: AppContext, actor: Actor, case: Any) -> str:
    """The viewer's display tier of a case (what the case page renders for them)."""
    return tier_key(ctx.policy, audience_for(ctx.policy, actor, classification=case.classification,
                                             department=case.department,
                                             is_author=actor.user_id in (case.owner_id, case.author_id)))


@reads
def similar(ctx: AppContext, actor: Actor, key: str, limit: int = 5) -> list[Hit]:
    """Up to ``limit`` cases most like this one (estimated trigram similarity of their published versions; the
    same marketing scenario first) among those the viewer may read, never an archived one nor the case itself.
    Empty when the viewer may not read the case or it has never been published."""
    service = CaseService(ctx)
    with ctx.engine.connect() as conn:
        case = conn.execute(select(*_RULE_COLUMNS).where(CASES.c.key == key)).one_or_none()
        if case is None or not service.may_view(conn, case, actor):
            return []
        sig = conn.execute(select(SIGNATURES.c.signature).where(SIGNATURES.c.case_id == case.id)).scalar()
        if sig is None:
            return []
        order, shares = _candidates(conn, case.id, sig)
        wanted, readable = limit * GATHER, []
        for start in range(0, len(order), wanted):
            batch = order[start:start + wanted]
            rows = {r.id: r for r in conn.execute(select(*_RULE_COLUMNS).where(CASES.c.id.in_(batch)))}
            readable += [(cid, _tier(ctx, actor, rows[cid])) for cid in batch if cid in rows
                         and visibility(rows[cid].state, rows[cid].withdrawn_at is not None) == "live"
                         and service.may_view(conn, rows[cid], actor)]
            if len(readable) >= wanted:
                break
        if not readable:
            return []
        tiers = dict(readable[:wanted]) | {case.id: _tier(ctx, actor, case)}
        entries = {r.case_id: r for r in conn.execute(select(ENTRIES.c.id, ENTRIES.c.case_id, ENTRIES.c.tier,
                                                             ENTRIES.c.facts).where(ENTRIES.c.case_id.in_(tiers)))
                   if tiers[r.case_id] == r.tier}
        mine = _scenario(entries[case.id].facts) if case.id in entries else None
        best = sorted((_scenario(e.facts) != mine, -shares[cid], -cid, e.id)
                      for cid, e in entries.items() if cid != case.id)[:limit]
        return _hits(conn, [(entry_id, -share) for _, share, _, entry_id in best], [])

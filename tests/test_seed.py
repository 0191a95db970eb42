"""``casebook seed`` writes what the services would: each seeded version's stored findings, per-tier renderings,
fingerprint and index entries equal a fresh computation (no memo) on its document, and the views go to the
access log. The memoised paths the seeder takes (per pool text) must never change a row."""

from __future__ import annotations

import json
import random

from sqlalchemy import select, text

from casebook.core.access_log import AccessEntry
from casebook.core.integrity import check
from casebook.core.textnorm import PartsMemo, fingerprint, fingerprint_of_parts
from library.index import SearchEntry, entry_terms, index_key
from lifecycle.document import document_fingerprint
from lifecycle.models import Case, CaseVersion
from lifecycle.replay import replay
from redaction import stored
from redaction.api import detect_fields
from redaction.render import document_findings, render_patch


def test_fingerprint_of_parts_equals_the_fingerprint_of_the_joined_text() -> None:
    rng = random.Random(5)
    alphabet = ["活", "動", "预", "算", " ", "\n", "a", "B", "7", "萬", "元", "x", "\t"]
    memo = PartsMemo()
    for _ in range(400):
        parts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 7))) for _ in range(rng.randrange(1, 8))]
        assert fingerprint_of_parts(parts, memo) == fingerprint("".join(parts)), parts


def test_seeded_rows_equal_what_the_services_compute(ctx, monkeypatch) -> None:
    import casebook.seed as seeding

    monkeypatch.setattr(seeding, "MIN_POOL", 6)  # few texts to detect up front: a fast test, texts still shared
    result = seeding.seed(ctx, 40, 11, published_share=0.7)
    policy, key = ctx.policy, index_key(ctx.audit.key)
    with ctx.engine.connect() as conn:
        versions = conn.execute(select(CaseVersion.case_id, CaseVersion.number, CaseVersion.document,
                                       CaseVersion.shingles).order_by(CaseVersion.case_id, CaseVersion.number)).all()
        cases = {r.id: r for r in conn.execute(select(Case.id, Case.classification, Case.published_version_no))}
        found = {(r.case_id, r.version_no): r.findings for r in conn.execute(select(stored.FINDINGS))}
        tiers: dict[tuple[int, int], dict[str, dict]] = {}
        for r in conn.execute(select(stored.RENDERINGS)):
            tiers.setdefault((r.case_id, r.version_no), {})[r.tier] = r.patch
        entries = {(r.case_id, r.tier): r for r in conn.execute(select(SearchEntry.case_id, SearchEntry.tier,
                                                                       SearchEntry.version_no, SearchEntry.terms))}
        views = conn.execute(select(AccessEntry.action, AccessEntry.via)).all()
        audited_views = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'case.view'")).scalar()
        assert all(f.ok for f in check(conn, ctx.audit.key))
        replayed = replay(conn, ctx.policy)                        # what ``casebook audit verify`` replays
        assert replayed.ok and replayed.checked == 40, replayed.problems
    by_case: dict[int, list] = {}
    for v in versions:
        by_case.setdefault(v.case_id, []).append(v)
    for case_id, rows in by_case.items():
        classification = cases[case_id].classification
        fields = []
        for v in rows:
            detected = detect_fields(policy, v.document)
            stored_findings = found[(case_id, v.number)]
            if isinstance(stored_findings, str):
                stored_findings = json.loads(stored_findings)
            assert stored_findings == json.loads(json.dumps(stored._encode(detected)))
            assert v.shingles == document_fingerprint(v.document)
            fields.append(document_findings(policy, v.document, [], detected))
        mapping = stored.case_pseudonyms(rows[-1].document, fields)
        for v, version_fields in zip(rows, fields):
            expected = {tier: render_patch(policy, v.document, audience, fields=version_fields, pseudonyms=mapping)
                        for tier, audience in stored.tiers_for(policy, classification).items()}
            assert tiers[(case_id, v.number)] == json.loads(json.dumps(expected)), (case_id, v.number)
            if cases[case_id].published_version_no == v.number:
                for tier, patch in expected.items():
                    entry = entries[(case_id, tier)]
                    assert entry.version_no == v.number
                    assert entry.terms == entry_terms(policy, key, stored.apply_patch(v.document, patch),
                                                      classification, tier)
    assert result.views == len(views) > 0 and {a for a, _ in views} == {"view"} and audited_views == 0

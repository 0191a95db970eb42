"""Reading at library scale: findings stored once per version, renderings per display tier, the indexed search
(what a viewer may not see cannot be found), readers on the published version, archived cases, backfill, seed."""

from __future__ import annotations

import json
import re

from sqlalchemy import select, text

import redaction.analyzer as analyzer_module
from casebook.core import audit
from library import search
from library import similar_index
from library.similar import similar
from casebook.core.users import Actor, User
from lifecycle.service import CaseService
from redaction.api import detection_version
from redaction.stored import FINDINGS, is_exact
from redaction.views import rendered_view
from tests.web_helpers import FIGURE, client, page_client, people, published_case


def _refuse() -> None:
    raise AssertionError("the analyzer ran on a read path")


def test_read_paths_use_stored_findings_and_never_run_the_analyzer(ctx, full_case, monkeypatch) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT analyzer_version, findings FROM version_findings")).all()
        tiers = conn.execute(text("SELECT count(*) FROM version_renderings")).scalar_one()
    assert [r.analyzer_version for r in rows] == [detection_version(ctx.policy)] and tiers >= 3
    findings = rows[0].findings if isinstance(rows[0].findings, dict) else json.loads(rows[0].findings)
    assert any(e == "MONEY" for items in findings.values() for e, *_ in items)
    analyzer_module._detect_cached.cache_clear()  # from here on any analysis fails the test
    monkeypatch.setattr(analyzer_module, "analyzer", _refuse)
    api = client(ctx, "intern")
    assert api.get(f"/api/v1/cases/{key}").status_code == 200
    assert "30-70萬元" in api.get(f"/api/v1/cases/{key}/export").text
    found = api.get("/api/v1/search", params={"q": "快閃店"}).json()
    assert found["total"] == 1 and FIGURE not in json.dumps(found, ensure_ascii=False)
    assert page_client(ctx, "head").get(f"/cases/{key}").status_code == 200
    from flows.registry import run_job

    run_job(ctx, "digests", deliver_after=True)


def test_a_figure_hidden_from_the_viewer_cannot_be_found(ctx, full_case) -> None:
    users = people(ctx)
    public = published_case(ctx, users, full_case, "public")
    secret = published_case(ctx, users, full_case, "confidential")
    for who, expected in (("intern", set()), ("spec", set()), ("exec", {public, secret})):
        hits = search.search(ctx, users[who], FIGURE)
        assert {h.key for h in hits} == expected and hits.total == len(expected), who
    # The range the intern is shown is findable; the exact figure of the confidential case is not in the index.
    assert public in {h.key for h in search.search(ctx, users["intern"], "快閃店")}
    with ctx.engine.connect() as conn:
        terms = " ".join(conn.execute(text("SELECT terms FROM search_entries")).scalars())
    assert "五十" in terms  # the public case's exact tier (its author, the committee) holds the figure
    with ctx.engine.connect() as conn:
        entries = conn.execute(text("SELECT e.tier, e.terms FROM search_entries e JOIN cases c ON c.id = e.case_id "
                                    "WHERE c.key = :k"), {"k": secret}).all()
    assert any(is_exact(tier) for tier, _ in entries) and any(not is_exact(tier) for tier, _ in entries)
    for tier, terms in entries:  # every tier of a case encrypted at rest holds keyed hashes only (even a ranged
        assert all(re.fullmatch(r"h[0-9a-f]{20}", t) for t in terms.split()), tier  # rendering quotes its text)
    # ... and is found by its words at every tier: its author reads it with ranges, the executive exactly
    assert secret in {h.key for h in search.search(ctx, users["author"], "快閃店")}
    assert secret in {h.key for h in search.search(ctx, users["exec"], "快閃店")}


def test_readers_see_the_published_version_while_the_next_is_in_review(ctx, full_case) -> None:
    users = people(ctx)
    key = published_case(ctx, users, full_case, "public")
    svc = CaseService(ctx)
    svc.fire(users["author"], key, "start_update")
    svc.edit(users["author"], key, {"title": "改版後的社區快閃店二期", "body": full_case["body"] | {
        "background": "第二期改在地鐵站旁的寫字樓大堂。"}})
    svc.fire(users["author"], key, "submit")
    reader = client(ctx, "intern").get(f"/api/v1/cases/{key}").json()
    assert reader["version"] == 1 and reader["published_version"] == 1 and "二期" not in reader["document"]["title"]
    assert client(ctx, "intern").get(f"/api/v1/cases/{key}", params={"version": 2}).status_code == 403
    assert client(ctx, "author").get(f"/api/v1/cases/{key}").json()["version"] == 2
    assert client(ctx, "spec").get(f"/api/v1/cases/{key}").json()["version"] == 2  # its open level-1 task
    assert client(ctx, "com").get(f"/api/v1/cases/{key}").json()["version"] == 2  # security.working_version_roles
    assert client(ctx, "head_sales").get(f"/api/v1/cases/{key}").json()["version"] == 1
    # Still searchable by its published text, not by the text in review.
    assert [h.key for h in search.search(ctx, users["intern"], "快閃店")] == [key]
    assert search.search(ctx, users["intern"], "地鐵站").total == 0


def test_search_facets_filters_sorting_paging_and_archived_cases(ctx, full_case) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    keys = [published_case(ctx, users, full_case | {"tags": {"industry": [industry]}}, "public")
            for industry in ("catering", "catering", "retail")]
    everything = search.search(ctx, users["intern"], "快閃店", limit=2)
    assert everything.total == 3 and len(everything.items) == 2
    assert search.search(ctx, users["intern"], "快閃店", limit=2, page=2).items[0].key not in \
        {h.key for h in everything.items}
    assert everything.facets["industry"] == {"catering": 2, "retail": 1}
    assert search.search(ctx, users["intern"], "", {"industry": "retail"}).total == 1
    assert search.search(ctx, users["intern"], "快閃店", filters=search.Filters(library="methodology_tools")).total == 0
    newest = search.search(ctx, users["intern"], "", {"industry": "catering"}, sort="newest")
    assert [h.key for h in newest] == [keys[1], keys[0]]
    api = client(ctx, "intern").get("/api/v1/search", params={"q": "快閃店", "tag": "industry:catering",
                                                                "sort": "rating", "per_page": 1}).json()
    assert api["total"] == 2 and len(api["items"]) == 1
    assert client(ctx, "intern").get("/api/v1/search", params={"sort": "loudest"}).status_code == 422
    alike = similar(ctx, users["intern"], keys[0])
    assert {h.key for h in alike} == {keys[1], keys[2]}
    # A store from before the similar-cases index: the backfill writes what publication would have, once.
    with ctx.engine.begin() as conn:
        conn.execute(similar_index.BANDS_TABLE.delete())
        conn.execute(similar_index.SIGNATURES.delete())
    assert similar(ctx, users["intern"], keys[0]) == []
    assert similar_index.backfill(ctx) == 3 and similar_index.backfill(ctx) == 0
    assert similar(ctx, users["intern"], keys[0]) == alike
    svc.fire(users["com"], keys[2], "retire", reason="out of date")
    svc.fire(users["ops"], keys[2], "archive")
    assert keys[2] not in {h.key for h in search.search(ctx, users["intern"], "快閃店")}
    found = {h.key: h for h in search.search(ctx, users["ops"], "快閃店")}
    assert found[keys[2]].archived and not found[keys[0]].archived
    assert keys[2] not in {h.key for h in similar(ctx, users["ops"], keys[0])}


def test_backfill_redetects_old_analyzer_versions_once(ctx, users, full_case, cli) -> None:
    key = CaseService(ctx).create(users["alice"], full_case)
    with ctx.engine.begin() as conn:
        conn.execute(FINDINGS.update().values(analyzer_version="old", findings={}))
    code, out, err = cli("redact", "backfill")
    assert code == 0, err
    assert "re-detected 1 versions" in out
    with ctx.engine.connect() as conn:
        version, findings = conn.execute(text("SELECT analyzer_version, findings FROM version_findings")).one()
    assert version == detection_version(ctx.policy) and findings not in ("{}", {})
    assert "re-detected 0 versions" in cli("redact", "backfill")[1]
    assert rendered_view(ctx, users["alice"], key)[0].document["title"] == full_case["title"]


def test_seed_writes_every_state_users_for_every_role_and_a_valid_audit_chain(ctx) -> None:
    from casebook.seed import seed

    result = seed(ctx, 160, 7, published_share=0.4)
    assert set(result.users) == set(ctx.policy.doc.roles)
    assert {"draft", "submitted", "returned", "approved", "scheduled", "published", "update_due", "updating",
            "pending_evaluation", "retired", "archived", "withdrawn", "rejected"} <= set(result.states)
    assert any(s.startswith("review_l") for s in result.states)
    with ctx.sessions() as session:
        assert audit.verify(session, ctx.audit.key).ok
    with ctx.engine.connect() as conn:
        missing = conn.execute(text("SELECT count(*) FROM case_versions v LEFT JOIN version_findings f "
                                    "ON f.case_id = v.case_id AND f.version_no = v.number "
                                    "WHERE f.case_id IS NULL")).scalar_one()
    assert missing == 0
    with ctx.sessions() as session:
        reader = Actor.of(session.scalar(select(User).where(User.username == result.users["committee_member"][0])))
    assert search.search(ctx, reader, "").total > 0


def test_stored_renderings_keep_lexicon_terms_and_masks_across_versions(ctx, full_case) -> None:
    """The stored findings hold the policy lexicon's terms; a person's mask in v2 is the one v1 gave them."""
    from redaction.tiers import Audience
    from redaction.views import render_view

    users = people(ctx)
    full_case = full_case | {"body": full_case["body"] | {"execution": "林雅婷與林志明在青鸞計劃中負責執行。"}}
    key = published_case(ctx, users, full_case, "public")
    svc = CaseService(ctx)
    svc.fire(users["author"], key, "start_update")
    svc.edit(users["author"], key, {"body": full_case["body"] | {"execution": "林志明接手執行。"}})
    with ctx.engine.connect() as conn:
        stored = [json.loads(f) if isinstance(f, str) else f for f in conn.execute(
            select(FINDINGS.c.findings).order_by(FINDINGS.c.version_no)).scalars()]
    assert "STRATEGY" in {e for e, *_ in stored[0]["body.execution"]}
    analyzer_module._detect_cached.cache_clear()
    public = [render_view(ctx, svc.view(users["author"], key, version=n), Audience("public", "public"))
              for n in (1, 2)]
    first = public[0].document["body"]["execution"]
    assert first.startswith("林某甲與林某乙在〔") and first.endswith("〕中負責執行。") and "青鸞" not in first
    assert public[1].document["body"]["execution"] == "林某乙接手執行。"   # not 林某: v1 named two 林


def test_an_older_version_follows_when_a_later_one_adds_a_namesake(ctx, full_case, monkeypatch) -> None:
    """v1 names one 林 (林某); v2 adds a second 林: v1's stored renderings turn the first into 林某甲 too, so a
    reader comparing versions still sees one person under one mask."""
    from redaction.tiers import Audience
    from redaction.views import render_view

    users = people(ctx)
    full_case = full_case | {"body": full_case["body"] | {"execution": "林雅婷負責執行。"}}
    key = published_case(ctx, users, full_case, "public")
    svc = CaseService(ctx)

    def shown(n: int) -> str:
        return render_view(ctx, svc.view(users["author"], key, version=n),
                           Audience("public", "public")).document["body"]["execution"]

    assert shown(1) == "林某負責執行。"
    svc.fire(users["author"], key, "start_update")
    svc.edit(users["author"], key, {"body": full_case["body"] | {"execution": "林志明接手，林雅婷轉做培訓。"}})
    analyzer_module._detect_cached.cache_clear()
    monkeypatch.setattr(analyzer_module, "analyzer", _refuse)  # reading both versions runs no detection
    assert shown(2) == "林某乙接手，林某甲轉做培訓。"
    assert shown(1) == "林某甲負責執行。"


def test_seed_chunks_built_by_worker_processes_make_one_valid_store(ctx, monkeypatch) -> None:
    """Chunks built in two forked workers and written by the parent: every case, version finding and published
    entry is there once, and the audit chain verifies."""
    import casebook.seed as seeding

    monkeypatch.setattr(seeding, "CHUNK", 30)
    result = seeding.seed(ctx, 75, 3, published_share=0.6, workers=2)
    assert result.cases == 75 and sum(result.states.values()) == 75
    with ctx.engine.connect() as conn:
        cases, published, indexed, tasks = conn.execute(text(
            "SELECT count(*), count(published_version_no), (SELECT count(DISTINCT case_id) FROM search_entries), "
            "(SELECT count(DISTINCT id) FROM review_tasks) FROM cases")).one()
        missing = conn.execute(text("SELECT count(*) FROM case_versions v LEFT JOIN version_findings f "
                                    "ON f.case_id = v.case_id AND f.version_no = v.number "
                                    "WHERE f.case_id IS NULL")).scalar_one()
    assert (cases, missing) == (75, 0) and indexed == published > 0
    assert tasks == sum(n for s, n in result.states.items() if s.startswith("review_l"))
    with ctx.sessions() as session:
        assert audit.verify(session, ctx.audit.key).ok

"""Three-level review: queue, exclusive claims, rubric, separation of duties, pre-checks, due work, stats."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select, text

from casebook.assembly import build_context
from casebook.core.errors import Forbidden, IllegalTransition, InvalidInput
from casebook.core.settings import Settings
from lifecycle.service import CaseService
from policies import DEFAULT_POLICY_PATH
from policies.loader import parse_policy
from review import queue
from review.due import due_review_work
from review.models import ReviewTask
from review.prechecks import stored_results
from review.stats import review_stats
from tests.conftest import PASSING, TZ, decide, make_users, open_task


def policy_with(mutate) -> object:
    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    return parse_policy(yaml.safe_dump(raw, allow_unicode=True))


def test_queue_lists_eligible_work_by_due_time_with_sla_status(ctx, users, full_case, clock) -> None:
    svc = CaseService(ctx)
    first = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], first, "submit")
    clock.advance(timedelta(hours=2))
    second = svc.create(users["bob"], full_case | {"title": "另一個完全不同的題目", "body": {
        "background": "完全不同的背景", "strategy": "另外的策略", "reflection": "別的反思"}, "owner": "bob"})
    svc.fire(users["bob"], second, "submit")
    items = queue.list_queue(ctx, users["spec"])
    assert [i.case_key for i in items] == [first, second]                 # most urgent first
    assert {i.sla for i in items} == {"on_time"}
    assert queue.list_queue(ctx, users["alice"]) == []                   # staff are not reviewers
    assert queue.list_queue(ctx, users["head"]) == []                    # level 1 is for case specialists
    # 2026-10-20 is a Tuesday: a 2-working-day SLA ends Thursday; Wednesday it is due soon, Friday overdue.
    clock.set(datetime(2026, 10, 21, 12, 0, tzinfo=TZ))
    assert queue.list_queue(ctx, users["spec"])[0].sla == "due_soon"
    clock.set(datetime(2026, 10, 23, 9, 0, tzinfo=TZ))
    assert queue.list_queue(ctx, users["spec"])[0].sla == "overdue"


def test_sla_counts_statutory_working_days(ctx, users, full_case, clock) -> None:
    clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=TZ))                   # the day before National Day
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")
    with ctx.engine.connect() as conn:
        due = conn.execute(select(ReviewTask.__table__.c.due_at)).scalar_one().astimezone(TZ)
    assert due == datetime(2026, 10, 9, 10, 0, tzinfo=TZ)                # 2 working days: Oct 8 and Oct 9


def test_claim_release_reassign(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")
    task_id, _, _ = open_task(ctx, key)
    with pytest.raises(Forbidden, match="for role 'case_specialist'"):
        queue.claim(ctx, users["head"], task_id)
    queue.claim(ctx, users["spec"], task_id)
    with pytest.raises(Forbidden, match="already claimed by spec"):
        queue.claim(ctx, users["spec2"], task_id)
    with pytest.raises(Forbidden, match="not claimed by spec2"):
        queue.release(ctx, users["spec2"], task_id)
    queue.release(ctx, users["spec"], task_id)
    with pytest.raises(Forbidden, match="review.reassign"):
        queue.reassign(ctx, users["spec"], task_id, "spec2")
    with pytest.raises(Forbidden, match="for role 'case_specialist'"):
        queue.reassign(ctx, users["ops"], task_id, "head")
    queue.reassign(ctx, users["ops"], task_id, "spec2")
    assert open_task(ctx, key) == (task_id, "claimed", "spec2")
    assert [i.task_id for i in queue.list_queue(ctx, users["spec2"])] == [task_id]
    assert queue.list_queue(ctx, users["spec"]) == []


def test_rubric_below_pass_mark_forces_a_return(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")
    with pytest.raises(InvalidInput) as err:
        decide(ctx, users["spec"], key, "approve", scores=PASSING | {"operability": 2, "inspiration": 5})
    rules = {p.field: p.rule for p in err.value.problems}
    assert "forces a return" in rules["scores.operability"]
    assert "from 1 to 4" in rules["scores.inspiration"]
    with pytest.raises(InvalidInput, match="scores.authenticity: is required to approve"):
        decide(ctx, users["spec"], key, "approve", scores={"completeness": 4})
    with pytest.raises(InvalidInput, match="reasons.0.section: must be one of"):
        decide(ctx, users["spec"], key, "return", reasons=[{"section": "vibes", "text": "x"}])
    assert svc.view(users["alice"], key).state == "review_l1"            # nothing happened
    assert decide(ctx, users["spec"], key, "return", scores=PASSING | {"operability": 2},
                  reasons=[{"section": "execution", "text": "門店人手安排寫得不清楚"}]) == "returned"
    with ctx.engine.connect() as conn:
        stats = review_stats(conn, ctx.clock.now())
    assert stats["return_reasons_by_section"] == {"execution": 1} and stats["pass_rate"] == 0.0


def test_one_person_never_approves_two_levels(ctx, policy, full_case, clock) -> None:
    def two_specialist_levels(raw):
        chain = raw["review"]["chains"]["default"]
        chain[1] = dict(chain[0], name="second_look")                    # levels 1 and 2 both specialists

    ctx2 = build_context(settings=Settings(), clock=clock, policy=policy_with(two_specialist_levels))
    users = make_users(ctx2, ("alice", "staff", "marketing"), ("spec", "case_specialist", "ops"),
                       ("spec2", "case_specialist", "ops"))
    svc = CaseService(ctx2)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")
    assert decide(ctx2, users["spec"], key) == "review_l2"
    assert [i.case_key for i in queue.list_queue(ctx2, users["spec"])] == []  # not offered a second level
    with pytest.raises(Forbidden, match="never approves two levels"):
        decide(ctx2, users["spec"], key)
    assert decide(ctx2, users["spec2"], key) == "review_l3"
    ctx2.close()


def test_alternative_chain_per_library(ctx, full_case, clock) -> None:
    def alternative_for_benchmarks(raw):
        raw["libraries"]["industry_benchmark"]["review_chain"] = "alternative"

    ctx2 = build_context(settings=Settings(), clock=clock, policy=policy_with(alternative_for_benchmarks))
    users = make_users(ctx2, ("alice", "staff", "marketing"), ("lead", "business_line_lead", "marketing"),
                       ("ops", "operations", "ops"), ("expert", "industry_expert", "research"))
    svc = CaseService(ctx2)
    key = svc.create(users["alice"], full_case | {"library": "industry_benchmark"})
    svc.fire(users["alice"], key, "submit")
    assert [t.level_name for t in queue.list_queue(ctx2, users["lead"])] == ["business_line_lead"]
    assert decide(ctx2, users["lead"], key) == "review_l2"
    assert decide(ctx2, users["ops"], key) == "review_l3"
    assert decide(ctx2, users["expert"], key) == "approved"
    ctx2.close()


def test_prechecks_block_warn_and_never_silently_pass(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    bad_roi = full_case | {"metrics": full_case["metrics"] + [
        {"name": "銷售額", "value": 1_500_000, "kind": "revenue", "source": "門店POS"},
        {"name": "總成本", "value": 500_000, "kind": "cost", "source": "門店POS"},
        {"name": "ROI", "value": 350, "unit": "%", "kind": "roi", "source": "門店POS"}]}
    key = svc.create(users["alice"], bad_roi)
    with pytest.raises(IllegalTransition, match=r"figure_consistency blocks: metrics: stated ROI 350\.00%"):
        svc.fire(users["alice"], key, "submit")
    assert svc.view(users["alice"], key).state == "draft"
    fixed = bad_roi["metrics"][:-1] + [{"name": "ROI", "value": 200, "unit": "%", "kind": "roi", "source": "門店POS"}]
    body = full_case["body"] | {"goal": "打造全網最低價的秋季新品,銷量第一"}
    svc.edit(users["alice"], key, {"metrics": fixed, "body": body})
    assert svc.fire(users["alice"], key, "submit") == "submitted"
    assert svc.view(users["alice"], key).state == "review_l1"            # warnings do not block
    with ctx.engine.connect() as conn:
        results = {r["check"]: r for r in stored_results(conn, 1, 2)}
    assert results["figure_consistency"]["status"] == "pass"
    terms = results["absolute_terms"]
    assert terms["status"] == "fail" and terms["severity"] == "warn"
    assert {f["text"] for f in terms["findings"]} >= {"全網最低價", "第一"}
    found = terms["findings"][0]
    assert body["goal"][found["start"]:found["end"]] == found["text"]    # offsets into the original script
    sensitive = results["sensitive_information"]
    assert sensitive["status"] == "fail" and sensitive["severity"] == "warn"     # found and shown, not blocking
    money = [f for f in sensitive["findings"] if f["entity_type"] == "MONEY"]
    assert money and money[0]["field"] == "body.data"
    assert body["data"][money[0]["start"]:money[0]["end"]] == money[0]["text"] == "四十八萬元"


def test_near_duplicate_is_reported(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    first = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], first, "submit")
    second = svc.create(users["bob"], full_case | {"owner": "bob", "title": full_case["title"] + "(二)"})
    svc.fire(users["bob"], second, "submit")
    with ctx.engine.connect() as conn:
        case_id = conn.execute(text("SELECT id FROM cases WHERE key = :k"), {"k": second}).scalar_one()
        dup = {r["check"]: r for r in stored_results(conn, case_id, 1)}["near_duplicate"]
    assert dup["status"] == "fail" and dup["findings"][0]["case"] == first


def test_near_duplicate_compares_stored_fingerprints_and_fingerprints_older_versions(ctx, users, full_case) -> None:
    from casebook.core.textnorm import fingerprint_set, jaccard, trigrams
    from lifecycle.document import text_fields
    from lifecycle.models import Case, CaseVersion

    def version(key: str):
        return select(CaseVersion.document, CaseVersion.shingles).join(Case).where(Case.key == key)

    def words(document) -> str:
        return "".join(t for _, t in text_fields(document))

    svc = CaseService(ctx)
    first = svc.create(users["alice"], full_case)
    with ctx.engine.begin() as conn:
        document, blob = conn.execute(version(first)).one()
        assert len(fingerprint_set(blob)) == len(trigrams(words(document)))
        conn.execute(text("UPDATE case_versions SET shingles = NULL"))        # as written before migration 0007
    body = full_case["body"] | {"reflection": full_case["body"]["reflection"] + "下次會提前兩週備貨並增加社群預熱。"}
    second = svc.create(users["bob"], full_case | {"owner": "bob", "body": body})
    svc.fire(users["bob"], second, "submit")
    with ctx.engine.connect() as conn:
        case_id = conn.execute(text("SELECT id FROM cases WHERE key = :k"), {"k": second}).scalar_one()
        dup = {r["check"]: r for r in stored_results(conn, case_id, 1)}["near_duplicate"]
        theirs = conn.execute(version(second)).one().document
    expected = jaccard(trigrams(words(document)), trigrams(words(theirs)))
    assert 0.6 <= expected < 1
    assert dup["status"] == "fail" and dup["findings"] == [
        {"case": first, "similarity": round(expected, 3), "rule": f"similar to {first} ({expected:.0%} >= 60%)"}]


def test_due_work_escalates_reviewer_backup_manager(ctx, users, full_case, clock) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")                              # Tue 2026-10-20 10:00, due Thu 10:00

    def due_at(when: datetime):
        clock.set(when)
        with ctx.engine.connect() as conn:
            return [(i.case_key, i.status, i.step, i.notify_role)
                    for i in due_review_work(conn, ctx.policy, ctx.calendar, clock.now())]

    assert due_at(datetime(2026, 10, 20, 11, 0, tzinfo=TZ)) == []
    assert due_at(datetime(2026, 10, 21, 11, 0, tzinfo=TZ)) == [(key, "due_soon", "reviewer", None)]
    assert due_at(datetime(2026, 10, 22, 11, 0, tzinfo=TZ)) == [(key, "overdue", "backup", "operations")]
    assert due_at(datetime(2026, 10, 23, 11, 0, tzinfo=TZ)) == [(key, "overdue", "manager", "committee_member")]


def _seed_tasks(ctx, n: int) -> None:
    """n submitted cases with an open level-1 task each, written in bulk."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        owner = conn.execute(text("SELECT id FROM users WHERE username = 'alice'")).scalar_one()
        conn.execute(text("INSERT INTO cases (key, title, state, review_level, reentry_level, review_round, library, "
                          "classification, department, owner_id, author_id, micro, current_version_no, "
                          "state_changed_at, policy_version, created_at, updated_at, row_version) VALUES "
                          "(:key, 't', 'review_l1', 1, 1, 1, 'enterprise_practice', 'internal', 'marketing', :o, :o, "
                          ":f, 1, :now, 'p', :now, :now, 1)"),
                     [{"key": f"CB-9{i:05d}", "o": owner, "f": False, "now": now.replace(tzinfo=None)} for i in range(n)])
        conn.execute(text("INSERT INTO review_tasks (case_id, case_key, round, level, level_name, candidate_role, "
                          "status, created_at, due_at, policy_version) SELECT id, key, 1, 1, 'case_specialist', "
                          "'case_specialist', 'open', :now, :now, 'p' FROM cases"), {"now": now.replace(tzinfo=None)})


def _claim_all(db_url: str, username: str, audit_key: str) -> list[int]:
    """Worker: claim next until nothing is left (in its own process or thread)."""
    os.environ["CASEBOOK_AUDIT_KEY"] = audit_key
    ctx = build_context(settings=Settings(db_url=db_url))
    from casebook.core.users import Actor, get_user

    with ctx.sessions() as s:
        actor = Actor.of(get_user(s, username))
    got = []
    while (task := queue.claim_next(ctx, actor)) is not None:
        got.append(task)
    ctx.close()
    return got


def test_concurrent_claims_each_task_exactly_once(ctx, db_url) -> None:
    specs = [(f"rev{i}", "case_specialist", "ops") for i in range(16)]
    make_users(ctx, ("alice", "staff", "marketing"), *specs)
    _seed_tasks(ctx, 1000)
    if db_url.startswith("postgresql"):
        with multiprocessing.get_context("spawn").Pool(16) as pool:
            results = pool.starmap(_claim_all, [(db_url, name, "test-audit-key") for name, _, _ in specs])
    else:
        results = [[] for _ in specs]
        threads = [threading.Thread(target=lambda i=i: results[i].extend(_claim_all(db_url, specs[i][0],
                                                                                    "test-audit-key")))
                   for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    claimed = Counter(task for got in results for task in got)
    assert len(claimed) == 1000 and set(claimed.values()) == {1}
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ReviewTask).where(
            ReviewTask.__table__.c.status == "claimed")).scalar_one() == 1000
        holders = conn.execute(select(ReviewTask.__table__.c.claimed_by).distinct()).scalars().all()
    assert len(holders) > 1                                               # the work really was shared

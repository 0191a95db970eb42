"""The lifecycle through the service: every change is a transition plus its audit event, in one transaction."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casebook.core import audit
from casebook.core.errors import ConcurrentModification, Forbidden, IllegalTransition, InvalidInput
from casebook.core.users import Actor
from lifecycle.models import Case, CaseVersion
from lifecycle.service import CaseService
from tests.conftest import decide


def audit_count(ctx) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(audit.AuditEvent))


def through_review(svc: CaseService, users, key: str) -> None:
    assert svc.fire(users["alice"], key, "submit") == "submitted"
    assert svc.view(users["alice"], key).state == "review_l1"           # pre-checks passed: review started
    assert decide(svc.ctx, users["spec"], key) == "review_l2"
    assert decide(svc.ctx, users["head"], key) == "review_l3"
    assert decide(svc.ctx, users["com"], key) == "approved"


def test_full_lifecycle_monthly_batch(ctx, users, full_case, clock) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    through_review(svc, users, key)
    assert svc.fire(users["ops"], key, "publish") == "scheduled"          # enterprise practice: monthly batch
    assert svc.fire(users["ops"], key, "release") == "published"
    view = svc.view(users["alice"], key, published=True)
    assert view.published_version_no == 1
    assert view.facts["expires_at"].startswith("2029-10-20")              # 36 months of validity
    assert svc.fire(Actor.system(), key, "flag_update") == "update_due"
    assert svc.fire(users["alice"], key, "start_update") == "updating"
    # The next version is edited while version 1 stays the published one.
    assert svc.edit(users["alice"], key, {"title": "秋季新品快閃店(更新)"}) == 2
    assert svc.view(users["alice"], key, published=True).document["title"] == full_case["title"]
    assert svc.view(users["alice"], key).document["title"] == "秋季新品快閃店(更新)"
    svc.fire(users["alice"], key, "submit")
    assert svc.view(users["alice"], key).state == "review_l1"
    decide(ctx, users["spec2"], key)
    decide(ctx, users["head"], key)
    decide(ctx, users["com"], key)
    clock.advance(timedelta(days=30))
    svc.fire(users["ops"], key, "publish")
    svc.fire(users["ops"], key, "release")
    assert svc.view(users["alice"], key, published=True).version_no == 2
    svc.fire(Actor.system(), key, "expire")
    assert svc.fire(users["ops"], key, "retire", reason="outdated channel mix") == "retired"
    assert svc.fire(users["ops"], key, "archive") == "archived"
    assert svc.allowed_events(users["ops"], key) == []
    with ctx.sessions() as s:
        assert audit.verify(s, ctx.audit.key).ok


def test_instant_channel_publishes_at_once(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case | {"library": "industry_benchmark"})
    through_review(svc, users, key)
    assert svc.fire(users["ops"], key, "publish") == "published"


def test_illegal_event_is_refused_with_state_and_allowed_events_and_writes_nothing(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    before = audit_count(ctx)
    with pytest.raises(IllegalTransition) as err:
        svc.fire(users["alice"], key, "publish")
    assert err.value.state == "draft" and err.value.allowed == ["submit", "withdraw"]
    assert "allowed now: submit, withdraw" in str(err.value)
    with pytest.raises(IllegalTransition):
        svc.fire(users["alice"], key, "no_such_event")
    assert audit_count(ctx) == before
    assert svc.view(users["alice"], key).state == "draft"


def test_submit_guard_names_missing_intake_items(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    partial = {k: v for k, v in full_case.items() if k not in ("budget", "channels")}
    partial["metrics"] = [{"name": "試飲人數", "value": 1}]
    key = svc.create(users["alice"], partial)
    with pytest.raises(IllegalTransition) as err:
        svc.fire(users["alice"], key, "submit")
    text = str(err.value)
    assert "budget: mandatory intake item 'budget' is missing" in text
    assert "channels: mandatory intake item 'channels' is missing" in text
    assert "metrics.0.source: every figure must name its data source" in text
    assert svc.view(users["alice"], key).state == "draft"


def test_micro_case_has_short_checklist_and_fast_track(ctx, users) -> None:
    svc = CaseService(ctx)
    micro = {"title": "直播間臨時改抽獎規則", "library": "enterprise_practice", "classification": "internal",
             "department": "marketing", "micro": True, "scenario": "user_operation",
             "body": {"background": "互動率低於預期", "strategy": "改為整點抽獎", "reflection": "規則要提前預案"}}
    key = svc.create(users["alice"], micro)
    svc.fire(users["alice"], key, "submit")
    assert decide(ctx, users["spec"], key) == "approved"               # one-level micro chain
    assert svc.fire(users["ops"], key, "publish") == "published"        # micro-cases go live at once


def test_separation_of_duties(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["spec"], full_case | {"owner": "spec"})
    svc.fire(users["spec"], key, "submit")
    with pytest.raises(Forbidden, match="never reviews their own case"):
        decide(ctx, users["spec"], key)
    decide(ctx, users["spec2"], key)
    with pytest.raises(Forbidden, match="is for role 'department_head'"):
        decide(ctx, users["spec2"], key)
    with pytest.raises(Forbidden, match="in department 'marketing'"):
        decide(ctx, users["head_sales"], key)
    # The machine itself refuses decisions that do not come through a claimed task.
    with pytest.raises(IllegalTransition, match="is for role 'department_head'"):
        svc.fire(users["spec2"], key, "approve")
    with pytest.raises(IllegalTransition, match="made on a claimed task"):
        svc.fire(users["head"], key, "approve")


def test_return_reenters_at_the_same_level(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    svc.fire(users["alice"], key, "submit")
    decide(ctx, users["spec"], key)
    with pytest.raises(InvalidInput, match="reasons: a return needs at least one reason"):
        decide(ctx, users["head"], key, "return")
    reasons = [{"section": "strategy", "text": "explain the rainy-day fallback"}]
    assert decide(ctx, users["head"], key, "return", reasons=reasons) == "returned"
    svc.edit(users["alice"], key, {"body": full_case["body"] | {"strategy": "加入雨天室內備選點位"}})
    svc.fire(users["alice"], key, "resubmit")
    assert svc.view(users["alice"], key).state == "review_l2"            # re-enters where it was returned


def test_permissions_and_visibility(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    with pytest.raises(Forbidden):
        svc.create(users["intern"], full_case)
    key = svc.create(users["alice"], full_case)
    with pytest.raises(Forbidden):
        svc.view(users["intern"], key)                                  # interns see public cases only
    with pytest.raises(Forbidden):
        svc.view(users["head_sales"], key)                              # internal case of another department
    with pytest.raises(Forbidden):
        svc.view(users["exec"], key)                                    # another user's draft: its owner's only
    with pytest.raises(Forbidden):
        svc.fire(users["bob"], key, "submit")                           # not bob's, and he may not even see it
    svc.fire(users["alice"], key, "submit")
    assert svc.view(users["exec"], key).key == key                      # submitted: unpublished readers see it
    with pytest.raises(Forbidden):
        svc.view(users["bob"], key)                                     # not yet published: not for readers


def test_edit_is_a_new_version_and_only_in_editable_states(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    assert svc.edit(users["alice"], key, {"outcome": "to_be_optimised"}, note="outcome revised") == 2
    with pytest.raises(InvalidInput) as err:
        svc.edit(users["alice"], key, {"outcome": "great", "project_end": "2026-01-01"})
    fields = {p.field for p in err.value.problems}
    assert fields == {"outcome", "project_end"}
    svc.fire(users["alice"], key, "submit")
    with pytest.raises(IllegalTransition, match="state 'review_l1'"):
        svc.edit(users["alice"], key, {"title": "x"})
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseVersion)) == 2


def test_submission_deadline_is_stored_from_policy(ctx, users, full_case) -> None:
    key = CaseService(ctx).create(users["alice"], full_case)
    with ctx.sessions() as s:
        case = s.scalar(select(Case).where(Case.key == key))
        local = case.submission_due.astimezone(ctx.clock.tz)
    assert local.date().isoformat() == "2026-10-30"                     # project end 10-15 + 15 days


def test_concurrent_transitions_exactly_one_wins(ctx, users, full_case) -> None:
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)
    before = audit_count(ctx)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results.append(svc.fire(users["alice"], key, "submit"))
        except (IllegalTransition, ConcurrentModification) as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("submitted") == 1, results
    assert audit_count(ctx) == before + 2                                # submit + automatic start_review
    assert svc.view(users["alice"], key).state == "review_l1"



def test_migrations_build_exactly_the_schema_the_models_declare(ctx) -> None:
    """Alembic's autogenerate comparison of the migrated store against the models finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from casebook.models import Base
    from library.models import managed

    with ctx.engine.connect() as conn:  # the full-text index's dialect-specific objects are not models
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False,
                                                                       "include_name": managed}), Base.metadata)
    assert diff == []


def test_due_sets_are_partial_indexes_that_only_their_states_enter(ctx, users, full_case) -> None:
    """Each job's due set is a partial index holding only its states (so transitions between other states write
    no index page), and the due statements still find exactly the cases in those states. Which plan the planner
    picks at scale is held by tests/test_due_plans.py."""
    from lifecycle.jobs import approved_due, past_validity, scheduled_due, stale_due, submission_due_by

    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        for due in [submission_due_by(now), past_validity(now), stale_due(ctx.policy, now), approved_due(),
                    scheduled_due()]:
            if conn.dialect.name == "sqlite":
                partial = {row[1]: row[4] for row in conn.exec_driver_sql("PRAGMA index_list(cases)")}[due.index]
            else:
                partial = "WHERE" in conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = %(i)s", {"i": due.index}).scalar_one()
            assert partial, f"{due.index} is not partial"
    svc = CaseService(ctx)
    key = svc.create(users["alice"], full_case)

    def indexed() -> tuple[int, int]:
        with ctx.engine.begin() as conn:
            drafts = conn.execute(select(Case.id).where(submission_due_by(now + timedelta(days=3650)).where)).all()
            live = conn.execute(select(Case.id).where(past_validity(now + timedelta(days=36500)).where)).all()
        return len(drafts), len(live)

    assert indexed() == (1, 0)
    svc.fire(users["alice"], key, "withdraw", reason="duplicate of another case")
    assert indexed() == (0, 0)

"""The quarterly review and the yearly health check: candidates ranked by age, staleness, use and ratings
together, shares rounded down, restructure meaning gaps in the document itself, every task linked to its case."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from flows.registry import run_job
from lifecycle.health import Live, select_candidates, share_of, structural_gaps
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import WorkItem
from tests.web_helpers import people, published_case

NOW = datetime(2027, 1, 2, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMPLETE = {"body": {k: "寫好了" for k in ("background", "goal", "strategy", "execution", "data", "reflection")},
            "metrics": [{"name": "新會員", "value": 3400, "source": "CRM"}],
            "data_sources": [{"name": "CRM", "validation_method": "抽樣核對"}]}


def _live(i: int, *, months_old: float = 1, uses: int = 0, rating: tuple[float, int] = (0.0, 0),
          document: dict | None = None) -> Live:
    when = NOW - timedelta(days=30.44 * months_old)
    case = SimpleNamespace(id=i, key=f"CB-{i:06d}", title=f"case {i}", classification="internal",
                           department="marketing", author_id=1, owner_id=1, library="enterprise_practice",
                           created_at=when, published_at=when, content_updated_at=when)
    return Live(case, document if document is not None else COMPLETE, uses, rating)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 400), share=st.floats(0, 1))
def test_shares_are_rounded_down_and_never_negative(policy, n: int, share: float) -> None:
    k = share_of(share, n)
    assert 0 <= k <= share * n + 1e-6 and k > share * n - 1


def test_one_live_case_is_not_a_tenth(policy) -> None:
    found = select_candidates(policy, [_live(1, months_old=40)], NOW, {"retire": 0.10})
    assert found == {"retire": []}


def test_retirement_ranks_age_staleness_use_and_ratings_together(policy) -> None:
    def pick(*live: Live) -> list[str]:
        fill = [_live(i, months_old=1, uses=50, rating=(4.5, 5)) for i in range(10, 18)]
        return [c["case"]["key"] for c in select_candidates(policy, [*live, *fill], NOW, {"retire": 0.10})["retire"]]

    # as old as each other: the unused, poorly rated one goes first
    assert pick(_live(1, months_old=30, uses=0, rating=(1.0, 4)), _live(2, months_old=30, uses=90, rating=(4.8, 9))) \
        == ["CB-000001"]
    # equally used and rated: the older one goes first
    assert pick(_live(1, months_old=8, uses=5), _live(2, months_old=30, uses=5)) == ["CB-000002"]
    # equally old and rated: the less used one goes first
    assert pick(_live(1, months_old=20, uses=40), _live(2, months_old=20, uses=3)) == ["CB-000002"]


def test_restructure_means_gaps_in_the_document(policy) -> None:
    no_reflection = COMPLETE | {"body": COMPLETE["body"] | {"reflection": ""}}
    untraced = COMPLETE | {"metrics": [{"name": "ROI", "value": 3.2}], "data_sources": []}
    assert structural_gaps(COMPLETE) == []
    assert structural_gaps(no_reflection) == [{"code": "gap_section_empty", "section": "reflection"}]
    assert structural_gaps(untraced) == [{"code": "gap_unsourced_figures", "names": ["ROI"]},
                                         {"code": "gap_no_sources"}]
    live = [_live(1, document=no_reflection, rating=(1.0, 9)), _live(2, document=untraced),
            *[_live(i, rating=(1.0, 9)) for i in range(3, 11)]]     # low ratings alone are no structural gap
    found = select_candidates(policy, live, NOW, {"restructure": 0.30})
    assert [c["case"]["key"] for c in found["restructure"]] == ["CB-000002", "CB-000001"]


def test_update_proposes_data_older_than_policy_allows(policy) -> None:
    limit = policy.doc.health_check.data_max_age_months
    live = [_live(1, months_old=limit + 6), _live(2, months_old=limit + 1), _live(3, months_old=limit - 1),
            *[_live(i, months_old=1) for i in range(4, 11)]]
    found = select_candidates(policy, live, NOW, {"update": 0.20})
    assert [c["case"]["key"] for c in found["update"]] == ["CB-000001", "CB-000002"]


def one_case_without_sources(ctx, users, full_case, clock) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Four published cases, the first lacking its data sources (a structural gap), a month on: the keys and
    the first case's id."""
    keys = [published_case(ctx, users, full_case, "internal") for _ in range(4)]
    versions = CaseVersion.__table__
    with ctx.engine.begin() as conn:
        case_id = conn.execute(select(Case.__table__.c.id).where(Case.__table__.c.key == keys[0])).scalar_one()
        doc = conn.execute(select(versions.c.document).where(versions.c.case_id == case_id)).scalar_one()
        conn.execute(versions.update().where(versions.c.case_id == case_id).values(
            document=doc | {"data_sources": []}))
    clock.set(clock.now() + timedelta(days=30))
    return keys, case_id


def test_health_check_tasks_carry_their_case(ctx, full_case, clock) -> None:
    users = people(ctx)
    keys, case_id = one_case_without_sources(ctx, users, full_case, clock)
    counts = run_job(ctx, "yearly_health_check", deliver_after=False)
    with ctx.engine.connect() as conn:
        items = conn.execute(select(WorkItem.__table__)).all()
    assert counts["health_tasks"] == len(items) >= 1
    assert [(i.kind, i.case_id) for i in items] == [("health_restructure", case_id)]
    assert counts["health_tasks"] <= share_of(0.1, 4) + share_of(0.2, 4) + share_of(0.3, 4)


def test_health_reasons_are_coded_and_read_in_each_language(ctx, full_case, clock) -> None:
    """A proposal's reason is stored as a code; the report file speaks the policy's report language, the page
    and the inbox the reader's; nothing English leaks into the Chinese ones."""
    from casebook.core.reasons import decode
    from tests.web_helpers import page_client

    users = people(ctx)
    one_case_without_sources(ctx, users, full_case, clock)
    run_job(ctx, "yearly_health_check", deliver_after=False)
    with ctx.engine.connect() as conn:
        item = conn.execute(select(WorkItem.__table__)).one()
    assert decode(item.reason) == [{"code": "gap_no_sources"}]
    assert ctx.policy.doc.reports.locale == "zh-Hant"
    period = item.key.rsplit("|", 1)[-1]
    reports = ctx.settings.reports_dir or (ctx.settings.home / "reports")
    written = (reports / f"yearly_health_check-{period}.md").read_text(encoding="utf-8")
    assert f"# 年度健康檢查 {period}" in written and "建議補齊結構" in written and "未記錄數據來源" in written
    assert "no data sources" not in written and "restructure" not in written
    ops = page_client(ctx, "ops")
    for locale, said in (("zh-Hant", "未記錄數據來源"), ("zh-Hans", "未记录数据来源"), ("en", "no data sources recorded")):
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE users SET locale = :l WHERE username = 'ops'"), {"l": locale})
        page = ops.get(f"/reports/health?period={period}").text
        inbox = ops.get("/").text
        assert said in page and said in inbox, locale
        assert '{"code"' not in page and "gap_no_sources" not in inbox, locale
    # a row written before reasons were coded is shown as it was stored
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE work_items SET reason = 'data from 2019-01-01, older than 24 months'"))
    assert "data from 2019-01-01, older than 24 months" in ops.get(f"/reports/health?period={period}").text

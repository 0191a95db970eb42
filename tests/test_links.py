"""Links between cases: created by the roles policy names, audited, shown on both cases with the inverse wording,
never revealing a case the reader may not see; a superseded case goes to the next quarterly review."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from casebook.core.reasons import render as render_reason

from casebook.core.errors import Forbidden, InvalidInput
from flows.registry import run_job
from library import links
from lifecycle.health import Live, select_candidates
from lifecycle.worklist import WorkItem
from tests.web_helpers import client, page_client, people, published_case

NOW = datetime(2027, 1, 2, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
COMPLETE = {"body": {k: "寫好了" for k in ("background", "goal", "strategy", "execution", "data", "reflection")},
            "metrics": [{"name": "新會員", "value": 3400, "source": "CRM"}],
            "data_sources": [{"name": "CRM", "validation_method": "抽樣核對"}]}


def test_wording_is_inverse_on_the_target() -> None:
    assert (links.wording("supersedes", True), links.wording("supersedes", False)) == ("supersedes", "superseded_by")
    assert (links.wording("follow_up", True), links.wording("follow_up", False)) == ("follow_up", "follow_up_of")
    assert links.wording("related", False) == "related" and links.wording("contradicts", False) == "contradicts"


def test_links_are_created_by_policy_roles_audited_and_shown_on_both_cases(ctx, full_case) -> None:
    users = people(ctx)
    old = published_case(ctx, users, full_case, "internal")
    new = published_case(ctx, users, full_case, "internal")
    with pytest.raises(Forbidden, match="links.create_roles"):
        links.link_cases(ctx, users["author"], new, "supersedes", old)
    with pytest.raises(InvalidInput) as bad:
        links.link_cases(ctx, users["spec"], new, "replaces", new)
    assert {p.field for p in bad.value.problems} == {"kind", "target"}
    with pytest.raises(InvalidInput) as missing:
        links.link_cases(ctx, users["spec"], new, "supersedes", "CB-999999")
    assert missing.value.problems[0].field == "target"

    assert links.link_cases(ctx, users["spec"], new, "supersedes", old, note="新版數據") is True
    assert links.link_cases(ctx, users["spec"], new, "supersedes", old) is False      # idempotent
    assert links.link_cases(ctx, users["spec"], new, "related", old) is True
    assert links.link_cases(ctx, users["spec"], old, "related", new) is False        # symmetric: one link
    with ctx.engine.connect() as conn:
        events = conn.execute(text("SELECT actor, subject_id FROM audit_events WHERE action = 'case.link'")).all()
    assert [tuple(e) for e in events] == [("spec", new), ("spec", new)]

    reader = users["head"]
    on_new = {(l.wording, l.other_key) for l in links.visible_links(ctx, reader, new)}
    on_old = {(l.wording, l.other_key) for l in links.visible_links(ctx, reader, old)}
    assert on_new == {("supersedes", old), ("related", old)}
    assert on_old == {("superseded_by", new), ("related", new)}

    # the API and the CLI show the same; removal needs a reason and is audited
    api = client(ctx, "head").get(f"/api/v1/cases/{old}/links").json()
    assert {(l["wording"], l["case"]) for l in api} == on_old
    with pytest.raises(InvalidInput):
        links.unlink_cases(ctx, users["spec"], old, "related", new, reason=" ")
    assert links.unlink_cases(ctx, users["spec"], old, "related", new, reason="並不相關") is True
    assert {l.wording for l in links.visible_links(ctx, reader, old)} == {"superseded_by"}


def test_a_link_never_reveals_a_case_the_reader_may_not_see(ctx, full_case, cli) -> None:
    users = people(ctx)
    public = published_case(ctx, users, full_case, "public")
    secret = published_case(ctx, users, full_case, "confidential")
    assert links.link_cases(ctx, users["com"], secret, "follow_up", public) is True
    # the committee member sees both ends; the intern (public clearance) reads the public case without the link
    assert [(l.wording, l.other_key) for l in links.visible_links(ctx, users["com"], public)] == \
        [("follow_up_of", secret)]
    assert links.visible_links(ctx, users["intern"], public) == []
    shown = client(ctx, "intern").get(f"/api/v1/cases/{public}/links")
    assert shown.status_code == 200 and shown.json() == [] and secret not in shown.text
    page = page_client(ctx, "intern").get(f"/cases/{public}/links").text
    assert secret not in page and "links_none" not in page
    code, out, err = cli("links", "list", public, "--as", "intern", "--now", ctx.clock.now().isoformat())
    assert code == 0 and secret not in out, err
    # nor may a linker link to a case beyond their own reach: answered as if it did not exist
    with pytest.raises(InvalidInput) as refused:
        links.link_cases(ctx, users["spec"], public, "related", secret)   # specialist: internal clearance
    assert refused.value.problems[0].rule == f"no case '{secret}'"
    # and the links of a case the reader may not read are not listed at all
    assert client(ctx, "intern").get(f"/api/v1/cases/{secret}/links").status_code == 404


def test_links_box_forms_carry_csrf_and_work(ctx, full_case) -> None:
    users = people(ctx)
    old = published_case(ctx, users, full_case, "internal")
    new = published_case(ctx, users, full_case, "internal")
    spec = page_client(ctx, "spec")
    box = spec.get(f"/cases/{new}/links").text
    assert 'name="csrf_token"' in box and 'action="/cases/' + new + '/links"' in box
    r = spec.post(f"/cases/{new}/links", data={"kind": "supersedes", "target": old}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{new}/links?done=linked"
    seen_from_old = page_client(ctx, "head").get(f"/cases/{old}/links").text
    assert 'data-link="supersedes" data-direction="in"' in seen_from_old and new in seen_from_old
    assert "add-link" not in seen_from_old            # a department head may not add links by default
    r = spec.post(f"/cases/{new}/links/remove", data={"kind": "supersedes", "target": old, "reason": "誤連",
                                                       "view": old}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{old}/links?done=unlinked"
    assert links.visible_links(ctx, users["spec"], old) == []
    assert page_client(ctx, "author").post(f"/cases/{new}/links", data={"kind": "related", "target": old},
                                           follow_redirects=False).status_code == 403


def _live(i: int, *, months_old: float = 1, superseded_by: str | None = None) -> Live:
    when = NOW - timedelta(days=30.44 * months_old)
    case = SimpleNamespace(id=i, key=f"CB-{i:06d}", title=f"case {i}", classification="internal",
                           department="marketing", author_id=1, owner_id=1, library="enterprise_practice",
                           created_at=when, published_at=when, content_updated_at=when)
    return Live(case, COMPLETE, 10, (4.0, 3), superseded_by)


def test_supersession_is_a_retirement_reason_beyond_the_share(policy) -> None:
    live = [_live(1, months_old=1, superseded_by="CB-000009"), *(_live(i, months_old=30) for i in range(2, 12))]
    found = select_candidates(policy, live, NOW, {"retire": 0.10})["retire"]
    keys = [c["case"]["key"] for c in found]
    assert keys[0] == "CB-000001" and render_reason(found[0]["reason"], "en").startswith("superseded by CB-000009")
    assert len(found) == 1 + 1     # the share (a tenth of 11, rounded down) plus the superseded case
    # weight 0 turns the reason off: a fresh, used, well-rated case is then not proposed
    off = policy.doc.model_copy(update={"health_check": policy.doc.health_check.model_copy(
        update={"weights": policy.doc.health_check.weights.model_copy(update={"superseded": 0.0})})})
    quiet = select_candidates(SimpleNamespace(doc=off), live, NOW, {"retire": 0.10})["retire"]
    assert "CB-000001" not in [c["case"]["key"] for c in quiet]


def test_the_next_quarterly_review_proposes_the_superseded_case(ctx, full_case, clock) -> None:
    users = people(ctx)
    old = published_case(ctx, users, full_case, "internal")
    new = published_case(ctx, users, full_case, "internal")
    links.link_cases(ctx, users["ops"], new, "supersedes", old)
    clock.advance(timedelta(days=20))
    counts = run_job(ctx, "quarterly_review", deliver_after=False)
    with ctx.engine.connect() as conn:
        items = conn.execute(select(WorkItem.__table__)).all()
        old_id = conn.execute(text("SELECT id FROM cases WHERE key = :k"), {"k": old}).scalar()
    assert counts["health_tasks"] == 1
    assert [(i.kind, i.case_id) for i in items] == [("health_retire", old_id)]
    assert render_reason(items[0].reason, "en").startswith(f"superseded by {new}")
    assert render_reason(items[0].reason, "zh-Hant").startswith(f"已由 {new} 取代")
    assert run_job(ctx, "quarterly_review", deliver_after=False)["health_tasks"] == 0   # once per quarter


from tests.test_browser import CHROMIUM, browser, server, sign_in  # noqa: E402,F401 - fixtures of the browser tests


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_a_specialist_links_cases_in_the_browser_and_readers_see_both_sides(ctx, server, browser,  # noqa: F811
                                                                           full_case) -> None:
    from casebook.core.i18n import gettext

    users = people(ctx)
    old = published_case(ctx, users, full_case, "internal")
    new = published_case(ctx, users, full_case, "internal")
    secret = published_case(ctx, users, full_case, "confidential")
    links.link_cases(ctx, users["com"], secret, "related", old)
    spec = sign_in(browser, server, "spec")
    spec.goto(f"{server}/cases/{new}/links")
    spec.select_option("select[name=kind]", "supersedes")
    spec.fill("input[name=target]", old)
    spec.click("form.add-link button")
    spec.wait_for_url(f"{server}/cases/{new}/links?done=linked")
    assert spec.locator("li[data-link=supersedes][data-direction=out]").inner_text().startswith(
        gettext("link_supersedes", "zh-Hans"))
    spec.context.close()
    head = sign_in(browser, server, "head")
    head.goto(f"{server}/cases/{old}/links")
    item = head.locator("li[data-link=supersedes][data-direction=in]")
    assert gettext("link_superseded_by", "zh-Hans") in item.inner_text() and new in item.inner_text()
    assert secret not in head.content()            # the confidential case's link is not shown to a head
    assert head.locator("form.add-link").count() == 0
    head.context.close()

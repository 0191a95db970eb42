"""Learning: a new user's path lands in their inbox with due dates, completion needs the case opened and the
learner's confirmation, reminders are idempotent outbox rows, the department head sees progress, and the case of
the day is never archived, withdrawn, out of the reader's reach or repeated within the policy's days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from casebook.core import errors
from casebook.core.errors import Forbidden, InvalidInput
from casebook.core.users import Actor
from flows.registry import run_job
from library import learning
from library.inbox import inbox
from lifecycle.service import CaseService
from notifications.render import Recipient, render_message
from policies.learning import LearningPath
from tests.conftest import decide, make_users
from tests.web_helpers import client, page_client, people, published_case

TASKS = learning.TASKS
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)


# -- pure decisions ----------------------------------------------------------------------------------------------

def test_due_dates_per_item_or_in_total() -> None:
    per_item = LearningPath(cases=["CB-000001"], days_per_item=3)
    assert learning.due_dates(per_item, T0, 3) == [T0 + timedelta(days=3), T0 + timedelta(days=6),
                                                   T0 + timedelta(days=9)]
    total = LearningPath(tags={"industry": ["retail"]}, total_days=30)
    assert learning.due_dates(total, T0, 2) == [T0 + timedelta(days=30)] * 2


def test_path_policy_is_checked_at_load() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        LearningPath(cases=["CB-000001"], tags={"industry": ["retail"]}, days_per_item=3)
    with pytest.raises(ValueError, match="not case keys"):
        LearningPath(cases=["case one"], days_per_item=3)
    with pytest.raises(ValueError, match="days_per_item or total_days"):
        LearningPath(cases=["CB-000001"])


def test_policy_references_of_paths_must_resolve(policy) -> None:
    import yaml

    from casebook.core.errors import InvalidInput as Invalid
    from policies import DEFAULT_POLICY_PATH
    from policies.loader import parse_policy

    raw = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    raw["learning"]["paths"]["ghost"] = {"cases": ["CB-000001"], "days_per_item": 2}
    raw["learning"]["paths"]["staff"] = {"tags": {"budget_scale": ["huge"]}, "total_days": 5}
    raw["learning"]["progress_roles"] = ["department_head", "nobody"]
    with pytest.raises(Invalid) as caught:
        parse_policy(yaml.safe_dump(raw, allow_unicode=True))
    fields = {p.field for p in caught.value.problems}
    assert {"learning.paths.ghost", "learning.paths.staff.tags.budget_scale.0", "learning.progress_roles.1"} <= fields


def test_reminder_stage_is_a_pure_function_of_due_time_and_clock() -> None:
    due = T0 + timedelta(days=5)
    assert learning.reminder_stage(due, False, T0, 1) is None
    assert learning.reminder_stage(due, False, due - timedelta(hours=23), 1) == learning.DUE_SOON
    assert learning.reminder_stage(due, False, due, 1) == learning.OVERDUE
    assert learning.reminder_stage(due, True, due + timedelta(days=9), 1) is None


def test_daily_pick_is_stable_and_skips_recent_cases() -> None:
    assert learning.pick_daily([3, 1, 2], set(), "amy", "2026-11-02") == \
        learning.pick_daily([1, 2, 3], set(), "amy", "2026-11-02")
    assert learning.pick_daily([1, 2, 3], {1, 2}, "amy", "2026-11-02") == 3
    assert learning.pick_daily([1, 2], {1, 2}, "amy", "2026-11-02") is None
    days = {learning.pick_daily(list(range(1, 50)), set(), "amy", f"2026-11-{d:02d}") for d in range(1, 20)}
    assert len(days) > 1   # not the same case every day


def test_tag_query_needs_every_facet() -> None:
    query = {"marketing_goal": ["conversion"], "industry": ["catering", "retail"]}
    assert learning.tags_match(query, {"marketing_goal": ["awareness", "conversion"], "industry": ["retail"]})
    assert not learning.tags_match(query, {"marketing_goal": ["conversion"]})
    assert not learning.tags_match(query, None)


# -- effects -----------------------------------------------------------------------------------------------------

def sales_case(ctx, users, full_case, classification: str = "internal") -> str:
    """A published case of the sales department (its department head reviews the second level)."""
    svc = CaseService(ctx)
    key = svc.create(users["author_sales"], full_case | {"department": "sales", "classification": classification,
                                                         "title": "華南門店的會員日", "library": "industry_benchmark"})
    svc.fire(users["author_sales"], key, "submit")
    for reviewer in ("spec", "head_sales", "com"):
        decide(ctx, users[reviewer], key)
    run_job(ctx, "publish_approved", deliver_after=False)
    assert svc.view(users["com"], key).state == "published"
    return key


def _library(ctx, users, full_case) -> dict[str, str]:
    """Published cases of the staff path's tags: public, internal (marketing), internal (sales), confidential."""
    return {"public": published_case(ctx, users, full_case, "public"),
            "internal": published_case(ctx, users, full_case, "internal"),
            "sales": sales_case(ctx, users, full_case),
            "secret": published_case(ctx, users, full_case, "confidential")}


def _actor(ctx, username: str) -> Actor:
    with ctx.engine.connect() as conn:
        return Actor.of(conn.execute(text("SELECT * FROM users WHERE username = :u"), {"u": username}).one())


def _tasks(ctx, username: str) -> list:
    with ctx.engine.connect() as conn:
        return conn.execute(select(TASKS).where(TASKS.c.username == username).order_by(TASKS.c.position)).all()


def test_a_new_user_gets_their_roles_path_in_the_inbox_with_due_dates(ctx, full_case, cli) -> None:
    users = people(ctx)
    cases = _library(ctx, users, full_case)
    now = ctx.clock.now()
    code, out, err = cli("users", "add", "newbie", "--role", "staff", "--department", "marketing",
                         "--now", now.isoformat())
    assert code == 0, err
    assert "2 learning task(s) assigned" in out, [(t.case_key, cases) for t in _tasks(ctx, "newbie")]
    # only the cases a marketing staff member may read: not the sales department's internal case, nothing
    # confidential; newest publication first (the tag query's order)
    assert [t.case_key for t in _tasks(ctx, "newbie")] == [cases["internal"], cases["public"]]
    days = ctx.policy.doc.learning.paths["staff"].total_days
    assert all(t.due_at == now + timedelta(days=days) for t in _tasks(ctx, "newbie")), (now, _tasks(ctx, "newbie"))
    newbie = _actor(ctx, "newbie")
    items = [i for i in inbox(ctx, newbie) if i.kind == "learning"]
    assert {i.case for i in items} == {cases["internal"], cases["public"]}
    assert all(i.due == now + timedelta(days=days) and i.title for i in items)
    # assigning again, by hand or by the daily flow, adds nothing
    assert learning.assign_path(ctx, "newbie") == 0
    run_job(ctx, "learning_tasks", deliver_after=False)          # the other recent users get theirs
    assert run_job(ctx, "learning_tasks", deliver_after=False)["learning_assigned"] == 0
    assert len(_tasks(ctx, "newbie")) == 2
    with ctx.engine.connect() as conn:
        assigned = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'learning.assign' "
                                     "AND subject_id = 'newbie'")).scalar()
    assert assigned == 1


def test_listed_path_cases_are_checked_against_the_store(ctx, full_case) -> None:
    users = people(ctx)
    cases = _library(ctx, users, full_case)
    path = LearningPath(cases=[cases["internal"], "CB-999999", cases["public"]], days_per_item=2)
    doc = ctx.policy.doc.model_copy(update={"learning": ctx.policy.doc.learning.model_copy(
        update={"paths": {"staff": path}})})
    ctx.policy = type(ctx.policy)(doc=doc, digest=ctx.policy.digest)
    CaseService(ctx).fire(users["com"], cases["public"], "withdraw", reason="侵權投訴")
    problems = {(p.field, p.rule) for p in learning.path_problems(ctx)}
    assert problems == {("learning.paths.staff.cases.1", "no case 'CB-999999'"),
                        ("learning.paths.staff.cases.2", f"'{cases['public']}' is withdrawn: not offered to learners")}
    make_users(ctx, ("newbie", "staff", "marketing"))
    assert learning.assign_path(ctx, "newbie") == 1          # listed order, only what can be offered
    task = _tasks(ctx, "newbie")[0]
    assert task.case_key == cases["internal"] and task.due_at == ctx.clock.now() + timedelta(days=2)


def test_the_daily_flow_gives_paths_to_recent_users_only(ctx, full_case, clock) -> None:
    users = people(ctx)
    _library(ctx, users, full_case)
    make_users(ctx, ("fresh_intern", "intern", "marketing"))
    clock.advance(timedelta(days=ctx.policy.doc.learning.new_user_days + 1))
    make_users(ctx, ("late_intern", "intern", "marketing"))   # created now: within the window
    counts = run_job(ctx, "learning_tasks", deliver_after=False)
    assert _tasks(ctx, "fresh_intern") == []        # created too long ago
    intern_tasks = _tasks(ctx, "late_intern")
    assert counts["learning_assigned"] == len(intern_tasks) == 1   # an intern reads public cases only
    per_item = ctx.policy.doc.learning.paths["intern"].days_per_item
    assert intern_tasks[0].due_at == clock.now() + timedelta(days=per_item)


def test_completion_needs_the_case_opened_and_confirmed(ctx, full_case, cli) -> None:
    users = people(ctx)
    cases = _library(ctx, users, full_case)
    make_users(ctx, ("newbie", "staff", "marketing"))
    learning.assign_path(ctx, "newbie")
    newbie = _actor(ctx, "newbie")
    first, second = _tasks(ctx, "newbie")
    with pytest.raises(InvalidInput) as refused:
        learning.confirm(ctx, newbie, first.id)
    assert refused.value.problems[0].field == "case"
    assert _tasks(ctx, "newbie")[0].confirmed_at is None
    with pytest.raises(Exception):   # someone else's task is not found
        learning.confirm(ctx, users["author"], first.id)

    learning.mark_opened(ctx, newbie, first.id)   # the learning page's open link
    assert learning.confirm(ctx, newbie, first.id) is True
    assert learning.confirm(ctx, newbie, first.id) is False     # twice: done once
    # reading the case anywhere (here the CLI) counts as opening it
    code, _, err = cli("case", "show", second.case_key, "--as", "newbie", "--now", ctx.clock.now().isoformat())
    assert code == 0, err
    code, out, err = cli("learning", "confirm", second.case_key, "--as", "newbie",
                         "--now", ctx.clock.now().isoformat())
    assert code == 0 and "done" in out, err
    assert [t.status for t in learning.my_learning(ctx, newbie)] == ["done", "done"]
    assert not [i for i in inbox(ctx, newbie) if i.kind == "learning"]
    with ctx.engine.connect() as conn:
        audited = conn.execute(text("SELECT after FROM audit_events WHERE action = 'learning.confirm'")).all()
    assert len(audited) == 2
    assert cases["public"] in {json.loads(a[0])["case"] if isinstance(a[0], str) else a[0]["case"] for a in audited}


def test_reminders_are_queued_once_per_stage_and_never_after_completion(ctx, full_case, clock) -> None:
    users = people(ctx)
    _library(ctx, users, full_case)
    make_users(ctx, ("newbie", "staff", "marketing"))
    learning.assign_path(ctx, "newbie")
    first, second = _tasks(ctx, "newbie")
    assert learning.remind_due(ctx) == 0
    clock.set(first.due_at - timedelta(hours=12))
    assert learning.remind_due(ctx) == 2 and learning.remind_due(ctx) == 0   # idempotent
    newbie = _actor(ctx, "newbie")
    learning.mark_opened(ctx, newbie, first.id)
    learning.confirm(ctx, newbie, first.id)
    clock.set(first.due_at + timedelta(hours=1))
    assert run_job(ctx, "learning_tasks", deliver_after=False)["learning_reminders"] == 1   # overdue: the other
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT recipient, subject_id, period, payload FROM outbox "
                                 "WHERE kind = 'learning_due' ORDER BY id")).all()
    assert [(r.subject_id, r.period.split("-")[2]) for r in rows] == \
        [(first.case_key, "due_soon"), (second.case_key, "due_soon"), (second.case_key, "overdue")]
    payload = rows[-1].payload if isinstance(rows[-1].payload, dict) else json.loads(rows[-1].payload)
    for locale in ("zh-Hant", "zh-Hans", "en"):
        message = render_message(ctx.policy, "learning_due", payload, Recipient(newbie, None, locale))
        assert second.case_key in message.subject and message.text.strip()


def test_the_department_head_sees_progress_of_their_department_only(ctx, full_case) -> None:
    users = people(ctx)
    cases = _library(ctx, users, full_case)
    make_users(ctx, ("newbie", "staff", "marketing"), ("seller", "staff", "sales"))
    learning.assign_path(ctx, "newbie")
    learning.assign_path(ctx, "seller")
    newbie = _actor(ctx, "newbie")
    first = _tasks(ctx, "newbie")[0]
    learning.mark_opened(ctx, newbie, first.id)
    learning.confirm(ctx, newbie, first.id)

    mine = {p.username: p for p in learning.team_progress(ctx, users["head"])}
    assert set(mine) == {"newbie"} and (mine["newbie"].done, mine["newbie"].total) == (1, 2)
    assert set(p.username for p in learning.team_progress(ctx, users["head_sales"])) == {"seller"}
    assert {"newbie", "seller"} <= {p.username for p in learning.team_progress(ctx, users["ops"])}
    with pytest.raises(Forbidden):
        learning.team_progress(ctx, users["author"])

    assert client(ctx, "author").get("/api/v1/learning/progress").status_code == 403
    api = client(ctx, "head").get("/api/v1/learning/progress").json()
    assert [(p["username"], p["done"], p["total"]) for p in api] == [("newbie", 1, 2)]
    head_page = page_client(ctx, "head").get("/learning").text
    assert 'data-learner="newbie"' in head_page and 'data-learner="seller"' not in head_page
    assert "team-progress" not in page_client(ctx, "author").get("/learning").text
    assert cases["sales"] not in head_page


def test_the_learning_page_opens_and_confirms_with_csrf(ctx, full_case) -> None:
    users = people(ctx)
    _library(ctx, users, full_case)
    learning.assign_path(ctx, "author")
    task = _tasks(ctx, "author")[0]
    c = page_client(ctx, "author")
    assert f'data-task="{task.id}"' in c.get("/learning").text
    r = c.post(f"/learning/{task.id}/confirm", follow_redirects=False)
    assert r.status_code == 422 and "case" in r.text         # not opened yet: refused, naming the field
    r = c.get(f"/learning/{task.id}/open", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{task.case_key}"
    assert c.post(f"/learning/{task.id}/confirm", follow_redirects=False).status_code == 303
    assert _tasks(ctx, "author")[0].confirmed_at is not None
    # reading the case page itself (its read still queued in the access log) also counts as opening it
    other = _tasks(ctx, "author")[1]
    assert c.get(f"/cases/{other.case_key}").status_code == 200
    assert c.post(f"/learning/{other.id}/confirm", follow_redirects=False).status_code == 303
    assert _tasks(ctx, "author")[1].opened_at is not None
    # without the CSRF token the form is refused
    bare = client(ctx)
    bare.cookies.update(c.cookies)
    assert bare.post(f"/learning/{task.id}/confirm", follow_redirects=False).status_code in (401, 403)


def test_case_of_the_day_for_those_who_opted_in(ctx, full_case, clock) -> None:
    users = people(ctx)
    svc = CaseService(ctx)
    cases = _library(ctx, users, full_case)
    gone = published_case(ctx, users, full_case, "public")
    svc.fire(users["com"], gone, "withdraw", reason="侵權投訴")
    seller = users["staff_sales"]   # sales staff: reads the public and the sales case (not marketing's, nothing
    #                                 confidential)
    assert run_job(ctx, "case_of_the_day", deliver_after=False)["cases_of_the_day"] == 0   # nobody opted in
    learning.set_case_of_day(ctx, seller, True)
    learning.set_case_of_day(ctx, users["intern"], True)
    c = client(ctx, "intern")
    assert c.put("/api/v1/me/case-of-day", json={"enabled": True}).json() == {"enabled": True}

    seen: dict[str, list[str]] = {"staff_sales": [], "intern": []}
    for day in range(3):
        counts = run_job(ctx, "case_of_the_day", deliver_after=False)
        assert run_job(ctx, "case_of_the_day", deliver_after=False)["cases_of_the_day"] == 0   # once a day
        for name in seen:
            today = learning.todays_case(ctx, users[name])
            if today:
                seen[name].append(today.key)
        assert counts["cases_of_the_day"] == sum(1 for name in seen if len(seen[name]) == day + 1)
        clock.advance(timedelta(days=1))
    # the seller's two readable cases, no repeat, then nothing; the intern's one public case once
    assert sorted(seen["staff_sales"]) == sorted([cases["public"], cases["sales"]])
    assert seen["intern"] == [cases["public"]]
    assert gone not in seen["staff_sales"] + seen["intern"]
    with ctx.engine.connect() as conn:
        sent = conn.execute(text("SELECT recipient, subject_id FROM outbox WHERE kind = 'case_of_day'")).all()
    assert sorted(sent) == sorted([("staff_sales", k) for k in seen["staff_sales"]] + [("intern", k) for k in seen["intern"]])
    # after the no-repeat window a case may come again; shown on the inbox page that day
    clock.advance(timedelta(days=ctx.policy.doc.learning.case_of_day_no_repeat_days))
    run_job(ctx, "case_of_the_day", deliver_after=False)
    today = learning.todays_case(ctx, users["intern"])
    assert today is not None and today.key == cases["public"]
    assert [i.case for i in inbox(ctx, users["intern"]) if i.kind == "case_of_day"] == [cases["public"]]
    assert f'data-item="today-{cases["public"]}"' in page_client(ctx, "intern").get("/").text
    # withdrawn since it was picked: no longer shown
    svc.fire(users["com"], cases["public"], "withdraw", reason="資料有誤")
    assert learning.todays_case(ctx, users["intern"]) is None
    learning.set_case_of_day(ctx, seller, False)
    assert not learning.case_of_day_enabled(ctx, seller)


# -- in a real browser -------------------------------------------------------------------------------------------

from tests.test_browser import CHROMIUM, browser, server, sign_in  # noqa: E402,F401 - fixtures of the browser tests


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_a_new_user_learns_in_the_browser_and_the_head_sees_progress(ctx, server, browser, full_case,  # noqa: F811
                                                                    tmp_path) -> None:
    from access.accounts import set_password
    from tests.web_helpers import PASSWORD

    users = people(ctx)
    cases = _library(ctx, users, full_case)
    make_users(ctx, ("newbie", "staff", "marketing"))
    set_password(ctx, Actor.system("test"), "newbie", PASSWORD)
    assert learning.assign_path(ctx, "newbie") == 2
    first, second = _tasks(ctx, "newbie")

    page = sign_in(browser, server, "newbie")
    assert page.locator("section.task[data-kind=learning]").count() == 2          # the path is in the inbox
    page.goto(f"{server}/learning")
    row = page.locator(f"li.learning-task[data-task='{first.id}']")
    with page.expect_response(lambda r: r.url.endswith("/confirm")) as refused:
        row.locator("form button").click()                                         # confirm before opening
    locale = page.locator("html").get_attribute("lang")                              # the refusal in the page's language
    assert refused.value.status == 422 and errors.text("err_open_before_confirming", {"case": first.case_key},
                                                       locale) in page.content()
    page.goto(f"{server}/learning")
    page.locator(f"li.learning-task[data-task='{first.id}'] a.button").click()     # open the case
    page.wait_for_url(f"{server}/cases/{first.case_key}")
    page.goto(f"{server}/learning")
    page.locator(f"li.learning-task[data-task='{first.id}'] form button").click()
    page.wait_for_url(f"{server}/learning?done=confirmed")
    assert page.locator(f"li.learning-task.done[data-task='{first.id}']").count() == 1
    page.locator("section.case-of-day form button").click()                        # opt in
    page.wait_for_url(f"{server}/learning?done=case_of_day_on")
    run_job(ctx, "case_of_the_day", deliver_after=False)
    page.goto(f"{server}/learning")
    assert page.locator("section.case-of-day p.today a").inner_text() in (cases["public"], cases["internal"])
    page.screenshot(path=str(tmp_path / "learning-newbie.png"), full_page=True)
    page.goto(f"{server}/")
    assert page.locator("section.task[data-kind=case_of_day]").count() == 1
    assert page.locator("section.task[data-kind=learning]").count() == 1
    page.context.close()

    head = sign_in(browser, server, "head")
    head.goto(f"{server}/learning")
    progress = head.locator("table.progress tr[data-learner=newbie]")
    assert "1/2" in progress.inner_text()
    head.screenshot(path=str(tmp_path / "learning-head.png"), full_page=True)
    assert head.locator("tr[data-learner=staff_sales]").count() == 0
    head.context.close()
    import shutil

    for name in ("learning-newbie.png", "learning-head.png"):   # kept for a look after the run
        shutil.copy(tmp_path / name, f"/tmp/h-learn-{name}")

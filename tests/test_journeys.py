"""The whole job in the browser (Playwright on Debian Chromium), one screenshot per step under the folder the
README names (``build/journeys/<backend>/``, or ``$CASEBOOK_SCREENSHOTS``): capture, three levels with a return
and a resubmit, a committee finding, publish, a low rating rectified from operations' inbox, expiry renewed
from the inbox, and an access request approved by the department head."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flows.registry import run_job
from library.feedback import rate
from lifecycle.service import CaseService
from tests.test_browser import CHROMIUM, browser, pytestmark, review_and_decide, server, sign_in  # noqa: F401
from tests.web_helpers import people

ROOT = Path(__file__).resolve().parents[1]


def _shots(ctx) -> Path:
    folder = Path(os.environ.get("CASEBOOK_SCREENSHOTS", ROOT / "build" / "journeys")) / ctx.engine.dialect.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_capture_to_renewal_in_the_browser(ctx, server, browser, full_case) -> None:  # noqa: F811
    users = people(ctx)
    svc = CaseService(ctx)
    shots = _shots(ctx)
    step = iter(range(1, 100))

    def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=str(shots / f"{next(step):02d}-{name}.png"), full_page=True)

    # 1. the author captures a complete case and submits it
    author = sign_in(browser, server, "author")
    author.goto(f"{server}/cases/new")
    f = full_case
    for name, value in {"title": f["title"],
                        "project_start": str(f["project_start"]), "project_end": str(f["project_end"]),
                        "target_users": f["target_users"], "budget_amount": "480000",
                        "channels": "offline_store, xiaohongshu",
                        **{f"body_{k}": v for k, v in f["body"].items()}}.items():
        author.fill(f"[name={name}]", value)
    for name, value in {"library": "industry_benchmark", "scenario": f["scenario"], "outcome": f["outcome"],
                        "classification": "internal", "department": "marketing", "owner": "author"}.items():
        author.select_option(f"select[name={name}]", value)     # the owner too: picked by display name
    for i, m in enumerate(f["metrics"]):
        for part in ("name", "value", "unit", "source"):
            author.fill(f"[name=metric_{i}_{part}]", str(m[part]))
    for i, d in enumerate(f["data_sources"]):
        author.fill(f"[name=source_{i}_name]", d["name"])
        author.fill(f"[name=source_{i}_validation_method]", d["validation_method"])
    shot(author, "capture")
    author.click("button[value=submit]")
    author.wait_for_url("**/cases/CB-*")
    key = author.url.split("/cases/")[1].split("?")[0]
    assert svc.view(users["author"], key).state.startswith("review_l")
    shot(author, "submitted")

    # 2. the specialist scores one criterion low: the decision becomes a return with a reason at a section
    spec = sign_in(browser, server, "spec")
    review_and_decide(ctx, spec, key, "approve", scores={"inspiration": 2})
    assert spec.locator("input[name=decision][value=return]").is_checked()
    spec.fill("textarea[name=reason_strategy]", "策略部分需要說明為何選擇午休時段")
    shot(spec, "low-score-becomes-return")
    spec.click("form.decide button")
    spec.wait_for_load_state()
    assert svc.view(users["author"], key).state == "returned"

    # 3. the author edits one section and resubmits
    ctx.clock.advance(timedelta(hours=3))
    author.goto(f"{server}/cases/{key}/edit")
    author.fill("[name=body_strategy]", "午休時段寫字樓人流集中,以此為核心,搭配小紅書探店筆記預熱。")
    author.click("button[value=submit]")
    author.wait_for_load_state()
    shot(author, "resubmitted")

    # 4. three levels: the specialist sees what changed, the head approves, the committee adds a finding
    spec.goto(f"{server}/")
    spec.locator("section.task", has_text=key).locator("form[action$='/claim'] button").click()
    spec.wait_for_load_state()
    assert spec.locator("section.diff[data-section=strategy] ins").count() >= 1
    shot(spec, "review-diff")
    spec.goto(f"{server}/")
    review_and_decide(ctx, spec, key, "approve")
    head = sign_in(browser, server, "head")
    review_and_decide(ctx, head, key, "approve")
    com = sign_in(browser, server, "com")
    com.locator("section.task", has_text=key).locator("form[action$='/claim'] button").click()
    com.wait_for_load_state()
    com.goto(f"{server}/cases/{key}/signoff")
    marks = com.locator("mark[data-entity]").count()
    com.select_option("form.add-finding select[name=field]", "body.execution")
    com.fill("form.add-finding input[name=text]", "兩名店員")
    com.select_option("form.add-finding select[name=entity_type]", "PERSON")
    com.click("form.add-finding button")
    com.wait_for_load_state()
    assert com.locator("mark[data-entity]").count() == marks + 1
    shot(com, "signoff-finding-added")
    com.goto(f"{server}/")
    review_and_decide(ctx, com, key, "approve")
    run_job(ctx, "publish_approved", deliver_after=False)
    assert svc.view(users["author"], key).state == "published"

    # 5. a reader rates it 2 in the browser (two more low ratings arrive): rectification in operations' inbox
    reader = sign_in(browser, server, "exec")
    reader.goto(f"{server}/cases/{key}")
    reader.select_option("select[name=stars]", "2")
    reader.click("form[action$='/rate'] button")
    reader.wait_for_load_state()
    shot(reader, "rated")
    for other in ("head", "com"):
        rate(ctx, users[other], key, 2)
    run_job(ctx, "low_rating_rectification", deliver_after=False)
    ops = sign_in(browser, server, "ops")
    item = ops.locator("section.task[data-kind=rectification]", has_text=key)
    item.locator("select[name=decision]").select_option("rectified")
    item.locator("textarea[name=reason]").fill("補充了午休時段的客流數據")
    shot(ops, "rectification-in-inbox")
    item.locator("button").click()
    ops.wait_for_load_state()
    assert ops.locator("section.task[data-kind=rectification]").count() == 0

    # 6. the clock moves past validity: operations renew from the inbox
    months = ctx.policy.doc.libraries["industry_benchmark"].validity_months
    ctx.clock.advance(timedelta(days=31 * months + 1))
    run_job(ctx, "expiry_audit", deliver_after=False)
    ops = sign_in(browser, server, "ops")                   # two years on, yesterday's session has expired
    item = ops.locator("section.task[data-kind=evaluation]", has_text=key)
    item.locator("select[name=decision]").select_option("renew")
    item.locator("textarea[name=reason]").fill("仍是門店快閃的好範例")
    shot(ops, "evaluation-in-inbox")
    item.locator("button").click()
    ops.wait_for_load_state()
    assert svc.view(users["ops"], key).state == "updating"

    # 7. a reader from another department asks for access; the case department's head approves it
    asker = sign_in(browser, server, "staff_sales")
    asker.goto(f"{server}/cases/{key}")
    asker.fill("input[name=reason]", "銷售部想參考快閃店的做法")
    asker.click("form[action$='/access'] button")
    asker.wait_for_load_state()
    head = sign_in(browser, server, "head")
    shot(head, "access-request-in-inbox")
    head.locator("section.task[data-kind=access_request]", has_text=key).locator("button[value=approve]").click()
    head.wait_for_load_state()
    asker.goto(f"{server}/cases/{key}")
    assert asker.locator("#case-title").count() == 1
    shot(asker, "access-granted")

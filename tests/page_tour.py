"""A library with something on every page, and the list of page views to visit as each role: shared by the
language crawl (tests/test_web_i18n.py) and the accessibility scan (tests/test_accessibility.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from access.requests import request_access
from library.feedback import request_correction
from lifecycle.service import CaseService
from review import decisions, queue
from tests.conftest import PASSING, decide, open_task
from tests.web_helpers import people, published_case


@dataclass(frozen=True)
class View:
    """One page view: who (None: signed out), what, the status it answers, and whether this branch owns the page's
    text (the dashboard and health report pages are another module's)."""

    who: str | None
    path: str
    status: int = 200
    form: dict[str, str] | None = None      # posted (with the CSRF token) instead of fetched
    ours: bool = True
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def build_library(ctx: Any, full_case: dict[str, Any]) -> dict[str, Any]:
    """Published, returned-and-resubmitted, at-sign-off and draft cases; a correction and an access request."""
    users = people(ctx)
    svc = CaseService(ctx)
    published = published_case(ctx, users, full_case, "internal")
    # returned with reasons, edited and resubmitted: the specialist's desk shows the per-section diff
    again = svc.create(users["author"], full_case | {"title": "冬季會員日復盤"})
    svc.fire(users["author"], again, "submit")
    task = open_task(ctx, again)[0]
    queue.claim(ctx, users["spec"], task)
    decisions.decide(ctx, users["spec"], task, {"decision": "return", "scores": PASSING | {"inspiration": 2},
                                                "reasons": [{"section": "strategy", "text": "策略需要更具體"}]})
    ctx.clock.advance(timedelta(hours=1))
    svc.edit(users["author"], again, {"body": {"strategy": "以寫字樓午休為核心,先發探店筆記,再做會員日。"}})
    svc.fire(users["author"], again, "resubmit")
    desk_task = open_task(ctx, again)[0]
    queue.claim(ctx, users["spec"], desk_task)
    # at the committee's level, claimed: the sign-off sheet
    signing = svc.create(users["author"], full_case | {"title": "春節禮盒預售", "classification": "confidential"})
    svc.fire(users["author"], signing, "submit")
    for reviewer in ("spec", "head"):
        decide(ctx, users[reviewer], signing)
    signoff_task = open_task(ctx, signing)[0]
    queue.claim(ctx, users["com"], signoff_task)
    draft = svc.create(users["author"], {"title": "草稿:校園大使計劃", "library": "cross_domain_inspiration",
                                         "classification": "public", "department": "marketing"})
    request_correction(ctx, users["exec"], published, "第二段的會員數與報表不一致")
    request_access(ctx, users["staff_sales"], published, "準備華南區的同類活動")
    return {"users": users, "published": published, "again": again, "desk_task": desk_task, "signing": signing,
            "signoff_task": signoff_task, "draft": draft}


def views(lib: dict[str, Any]) -> list[View]:
    """Every page as the roles that use it (the shell's every template, the error page included)."""
    pub, draft = lib["published"], lib["draft"]
    bad_case = {"title": "", "library": "nope", "project_start": "2026-05-01", "project_end": "2026-04-01",
                "budget_amount": "-5", "action": "save"}
    return [
        View(None, "/login", name="sign-in"),
        View(None, "/login", 401, form={"username": "author", "password": "wrong"}, name="sign-in error"),
        View("author", "/", name="inbox"),
        View("author", "/my-cases", name="my cases"),
        View("author", "/my-cases?sort=title&dir=desc", name="my cases sorted"),
        View("author", f"/cases/{pub}", name="case page (author)"),
        View("author", f"/cases/{lib['again']}", name="case page with versions"),
        View("author", f"/cases/{draft}/edit", name="edit form"),
        View("author", "/cases/new", name="capture form"),
        View("author", "/cases/new", 422, form=bad_case, name="capture form with errors"),
        View("author", "/search?q=快閃", name="search results"),
        View("author", "/search", name="search start"),
        View("author", "/preferences", name="preferences"),
        View("author", "/api/v1/docs", name="API reference"),
        View("author", "/cases/CB-999999", 404, name="error page"),
        View("spec", "/", name="inbox (specialist)"),
        View("spec", f"/tasks/{lib['desk_task']}", name="review desk"),
        View("com", f"/cases/{lib['signing']}/signoff", name="sign-off"),
        View("com", f"/tasks/{lib['signoff_task']}", name="review desk (committee)"),
        View("head", "/", name="inbox (access request)"),
        View("ops", "/", name="inbox (operations)"),
        View("ops", f"/cases/{pub}", name="case page (operations, audit trail)"),
        View("ops", "/dashboard", ours=False, name="dashboard"),
        View("ops", "/reports/health", ours=False, name="health report"),
        View("intern", "/my-cases", name="my cases (empty)"),
        View("intern", "/cases/new", 403, name="capture refused"),
        View("intern", f"/cases/{pub}", 403, name="case refused"),
        View("staff_sales", f"/cases/{pub}", 403, name="access offer"),
    ]

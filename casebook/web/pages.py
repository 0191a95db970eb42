"""Server-rendered pages (jinja2, usable without JavaScript): sign-in, my tasks, case page, capture form,
search, operations dashboard, health-check report. Case text always comes from the rendering path."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from library import dashboard, search
from access.requests import request_access
from access.accounts import sign_in, sign_out
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, Forbidden, InvalidInput
from casebook.core.users import Actor, get_user
from casebook.web.csrf import PRESESSION_COOKIE, SESSION_COOKIE, csrf_input, remember_presession
from casebook.web.deps import app_ctx, client_ip, csrf_guard, optional_actor, task_refusal
from casebook.web.i18n import translator
from lifecycle.document import SECTIONS
from library.feedback import rate, request_correction
from lifecycle.service import CaseService
from redaction.render import shown_budget, shown_metric
from redaction.views import read_case, render_view
from review import decisions, queue

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@pass_context
def csrf_field(context: Any) -> Markup:
    """Every <form method="post"> renders {{ csrf_field() }}: the session's CSRF token as a hidden input."""
    return csrf_input(context["request"])


templates.env.globals.update(shown_budget=shown_budget, shown_metric=shown_metric, csrf_field=csrf_field)


def _locale(ctx: AppContext, actor: Actor | None) -> str:
    if actor is None:
        return "zh-Hant"
    with ctx.sessions() as session:
        return get_user(session, actor.username).locale


def page(request: Request, ctx: AppContext, actor: Actor | None, name: str, status: int = 200,
         **data: Any) -> HTMLResponse:
    locale = _locale(ctx, actor)
    response = templates.TemplateResponse(request, name, {"t": translator(locale), "locale": locale, "me": actor,
                                                           "may": lambda p: bool(actor) and ctx.policy.may(
                                                               actor.role, p, own=False),
                                                           **data}, status_code=status)
    remember_presession(request, response, secure=request.app.state.cookie_secure)
    return response


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def _refused(request: Request, ctx: AppContext, actor: Actor | None, exc: CasebookError) -> HTMLResponse:
    problems = exc.problems if isinstance(exc, InvalidInput) else []
    return page(request, ctx, actor, "error.html", status=exc.http_status, message=str(exc), problems=problems)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: AppContext = Depends(app_ctx)) -> HTMLResponse:
    return page(request, ctx, None, "login.html", error=None)


@router.post("/login")
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=200),
          ctx: AppContext = Depends(app_ctx)) -> Response:
    try:
        token = sign_in(ctx, username, password, kind="session", ip=client_ip(request))
    except Forbidden as exc:
        return page(request, ctx, None, "login.html", status=exc.http_status, error=str(exc))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.cookie_secure, max_age=ctx.policy.doc.security.session_hours * 3600)
    response.delete_cookie(PRESESSION_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, ctx: AppContext = Depends(app_ctx)) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sign_out(ctx, token)
    response = _login_redirect()
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def my_tasks(request: Request, actor: Actor | None = Depends(optional_actor),
             ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    items = [(i, i.title) for i in queue.shown_queue(ctx, actor)]
    return page(request, ctx, actor, "tasks.html", items=items, rubric=ctx.policy.doc.review.rubric,
                sections=SECTIONS, tz=ctx.clock.tz)


@router.post("/tasks/{task_id}/claim")
def claim_task(task_id: int, request: Request, actor: Actor | None = Depends(optional_actor),
               ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        with task_refusal(task_id):
            queue.claim(ctx, actor, task_id)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/", status_code=303)


@router.post("/tasks/{task_id}/decide")
async def decide_task(task_id: int, request: Request, actor: Actor | None = Depends(optional_actor),
                      ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    form = await request.form()
    payload: dict[str, Any] = {"decision": form.get("decision"), "comment": form.get("comment") or None,
                               "scores": {c: int(form[f"score_{c}"]) for c in ctx.policy.doc.review.rubric.criteria
                                          if str(form.get(f"score_{c}", "")).isdigit()}}
    if form.get("reason_text"):
        payload["reasons"] = [{"section": form.get("reason_section"), "text": form.get("reason_text")}]
    try:
        with task_refusal(task_id):
            decisions.decide(ctx, actor, task_id, payload, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/", status_code=303)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    a = json.dumps(old, ensure_ascii=False, indent=1, sort_keys=True, default=str).splitlines()
    b = json.dumps(new, ensure_ascii=False, indent=1, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "previous", "this", lineterm="", n=1))


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, actor: Actor | None = Depends(optional_actor),
                  ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    return page(request, ctx, actor, "capture.html", values={}, errors={}, policy=ctx.policy.doc, sections=SECTIONS)


@router.post("/cases/new")
async def new_case(request: Request, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    form = dict(await request.form())
    doc: dict[str, Any] = {k: v for k, v in form.items() if v and k in (
        "title", "library", "scenario", "outcome", "classification", "department", "owner", "project_start",
        "project_end", "target_users")}
    body = {s: form.get(f"body_{s}") for s in SECTIONS if form.get(f"body_{s}")}
    if body:
        doc["body"] = body
    if form.get("budget"):
        doc["budget"] = {"amount": form["budget"], "currency": "CNY"}
    try:
        key = CaseService(ctx).create(actor, doc, ip=client_ip(request))
    except InvalidInput as exc:
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.field.replace("body.", "body_").split(".")[0], []).append(p.rule)
        return page(request, ctx, actor, "capture.html", status=422, values=form, errors=errors,
                    policy=ctx.policy.doc, sections=SECTIONS)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.get("/cases/{key}", response_class=HTMLResponse)
def case_page(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
              ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    svc = CaseService(ctx)
    try:
        view, audience = read_case(ctx, actor, key, via="page", ip=client_ip(request))
    except Forbidden as exc:
        return page(request, ctx, actor, "error.html", status=403, message=str(exc), access_key=key)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    shows_trail = ctx.policy.may(actor.role, "audit.read", own=False)
    versions, events = svc.history(actor, key, events=shows_trail)
    versions = [v for v in versions if v.number <= view.version_no]  # no version past the one this reader sees
    rendered = []
    for v in versions:
        other = view if v.number == view.version_no else svc.view(actor, key, version=v.number)
        rendered.append((v, other.document if other is view else render_view(ctx, other, audience).document))
    diffs = [(v.number, _diff(prev, doc)) for (_, prev), (v, doc) in zip(rendered, rendered[1:])]
    trail = events if shows_trail else []
    try:
        similar = search.similar(ctx, actor, key)
    except CasebookError:
        similar = []
    return page(request, ctx, actor, "case.html", view=view, doc=view.document, audience=audience,
                sections=SECTIONS, versions=versions, diffs=diffs, trail=trail, similar=similar,
                scale=ctx.policy.doc.ratings.scale_max, tz=ctx.clock.tz)


@router.post("/cases/{key}/rate")
def rate_page(key: str, request: Request, stars: int = Form(...), comment: str = Form(""),
              actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        rate(ctx, actor, key, stars, comment or None)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/cases/{key}/correction")
def correction(key: str, request: Request, text: str = Form(...), actor: Actor | None = Depends(optional_actor),
               ctx: AppContext = Depends(app_ctx)) -> Response:
    """A reader's correction request: audited, and the owner is notified (answer due per policy)."""
    if actor is None:
        return _login_redirect()
    try:
        request_correction(ctx, actor, key, text, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/cases/{key}/access")
def access_page(key: str, request: Request, reason: str = Form(...), actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        request_access(ctx, actor, key, reason, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return page(request, ctx, actor, "error.html", status=202, message=f"{key}: request sent")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", tag: str = "", sort: str = "relevance", p: int = 1,
                actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    tags = dict([tag.split(":", 1)]) if ":" in tag else None
    try:
        results = search.search(ctx, actor, q, tags, sort=sort if sort in search.SORTS else "relevance",
                                page=max(1, min(p, 10_000))) if (q or tags) else None
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return page(request, ctx, actor, "search.html", q=q, tag=tag, hits=results.items if results else [],
                results=results, sort=sort)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    if not ctx.policy.may(actor.role, "reports.read", own=False):
        return page(request, ctx, actor, "error.html", status=403, message=f"role '{actor.role}' lacks reports.read")
    f = dashboard.figures(ctx)
    charts = {"by_state": dashboard.bar_chart(f["by_state"], title="cases by state"),
              "ratings": dashboard.bar_chart(f["ratings"], title="rating distribution"),
              "cycle": dashboard.bar_chart(f["cycle_hours_by_level"], title="review cycle hours per level")}
    return page(request, ctx, actor, "dashboard.html", f=f, charts=charts)


@router.get("/reports/health", response_class=HTMLResponse)
def health_page(request: Request, actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    if not ctx.policy.may(actor.role, "reports.read", own=False):
        return page(request, ctx, actor, "error.html", status=403, message=f"role '{actor.role}' lacks reports.read")
    folder = ctx.settings.reports_dir or (ctx.settings.home / "reports")
    reports = sorted(folder.glob("*.md"), reverse=True) if folder.exists() else []
    latest = reports[0].read_text(encoding="utf-8") if reports else ""
    return page(request, ctx, actor, "health.html", reports=[r.name for r in reports], latest=latest)

"""Server-rendered pages (jinja2, usable without JavaScript): sign-in, my tasks, case page, capture form,
search (the dashboard and reports: casebook.web.report_pages). Case text always comes from the rendering path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from library import search
from library.similar import similar as similar_cases
from access.requests import decide_access, request_access, requestable
from library.inbox import inbox
from lifecycle.work import close_work_item
from access.accounts import sign_in, sign_out, unfreeze
from casebook.core.locales import LOCALES
from notifications.preferences import CHANNELS, MODES, preferences, set_preferences
from casebook.core.context import AppContext
from casebook.core.db import reading
from casebook.core.errors import CasebookError, Forbidden, InvalidInput, Problem, describe, describe_problem
from casebook.core.users import Actor, People, get_user, owner_choices
from casebook.web.csrf import PRESESSION_COOKIE, SESSION_COOKIE, csrf_input, remember_presession
from casebook.web.deps import app_ctx, client_ip, csrf_guard, optional_actor, task_refusal
from casebook.web import forms, nav, tables
from library.links import links_box
from notifications.follows import follow, is_following, unfollow
from casebook.web.i18n import LOCALE_COOKIE, has, locale_choice, translator, writer
from access.accounts import actor_for_token
from lifecycle.document import submit_problems, text_fields
from policies.schema import ENTITY_NAMES
from lifecycle.owned import IRREVERSIBLE, REASON_REQUIRED, my_cases
from lifecycle.states import EDITABLE_STATES
from review.duties import REVIEW_DECISIONS as REVIEW_EVENTS
from lifecycle.document import SECTIONS
from library.feedback import rate, request_correction
from lifecycle.service import CaseService
from redaction.views import read_case, render_view, rendered_view
from review import decisions, queue, signoff
from review.desk import desk
from review.rubric import below_pass_mark
from casebook.web.diffs import section_diffs

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@pass_context
def csrf_field(context: Any) -> Markup:
    """Every <form method="post"> renders {{ csrf_field() }}: the session's CSRF token as a hidden input."""
    return csrf_input(context["request"])


templates.env.globals.update(csrf_field=csrf_field)


def _locale(request: Request, ctx: AppContext, actor: Actor | None) -> str:
    """The reader's language: a signed-in user's preference; signed out, the cookie's choice or Accept-Language."""
    if actor is not None:
        with reading(), ctx.sessions() as session:
            return get_user(session, actor.username).locale
    return locale_choice(request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language"))


#: The reader's language as pages choose it (other shell modules that render a page in it use this name).
reader_locale = _locale


def page(request: Request, ctx: AppContext, actor: Actor | None, name: str, status: int = 200,
         *, locale: str | None = None, **data: Any) -> HTMLResponse:
    """A template rendered in the reader's language (``locale`` when the page was asked for another one),
    with the navigation the reader's role may use."""
    locale = locale or _locale(request, ctx, actor)
    w = writer(locale, ctx.policy, ctx.clock.tz, People(ctx.engine))
    if data.get("done") and not has(f"done_{data['done']}"):
        data["done"] = None              # a success message only for what the catalog names (the URL is typed)

    def may(permission: str) -> bool:
        if actor is not None and permission.startswith("policy:"):   # a role list the policy names
            listed: Any = ctx.policy.doc
            for part in permission.removeprefix("policy:").split("."):
                listed = getattr(listed, part)
            return actor.is_system or actor.role in listed
        return actor is not None and (ctx.policy.may(actor.role, permission, own=False)
                                      or ctx.policy.may(actor.role, permission, own=True))

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = templates.TemplateResponse(request, name, {
        "t": w.t, "w": w, "locale": locale, "locales": LOCALES, "me": actor, "label_of": w.label, "may": may,
        "nav": nav.visible(may) if actor else [], "here": here, "problem_text": lambda p: describe_problem(p, locale),
        **data}, status_code=status)
    remember_presession(request, response, secure=request.app.state.cookie_secure)
    return response


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def _session_actor(request: Request, ctx: AppContext) -> Actor | None:
    """The signed-in reader of a page reached without the actor dependency (an application-level error)."""
    try:
        return actor_for_token(ctx, request.cookies.get(SESSION_COOKIE))
    except CasebookError:
        return None


#: The page heading of a refusal by its HTTP status (a catalog key).
_ERROR_HEADINGS = {403: "error_forbidden", 404: "error_not_found", 409: "error_conflict", 422: "error_invalid"}


def _refused(request: Request, ctx: AppContext, actor: Actor | None, exc: CasebookError) -> HTMLResponse:
    """A refusal as a page in the reader's language (status kept): what was refused and why."""
    actor = actor or _session_actor(request, ctx)
    locale = _locale(request, ctx, actor)
    problems = exc.problems if isinstance(exc, InvalidInput) else []
    return page(request, ctx, actor, "error.html", status=exc.http_status, message=describe(exc, locale),
                problems=problems, heading=_ERROR_HEADINGS.get(exc.http_status, "error_heading"))


def _field_errors(request: Request, ctx: AppContext, actor: Actor | None,
                  problems: list[Problem]) -> dict[str, list[str]]:
    """Problems by form input, each in the reader's language."""
    locale = _locale(request, ctx, actor)
    return forms.errors_by_field(problems, lambda p: describe_problem(p, locale))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: AppContext = Depends(app_ctx)) -> HTMLResponse:
    return page(request, ctx, None, "login.html", error=None)


@router.post("/login")
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=200),
          ctx: AppContext = Depends(app_ctx)) -> Response:
    try:
        token = sign_in(ctx, username, password, kind="session", ip=client_ip(request))
    except Forbidden as exc:
        return page(request, ctx, None, "login.html", status=exc.http_status,
                    error=describe(exc, _locale(request, ctx, None)), username=username)
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


def _safe_next(target: str | None) -> str:
    """A same-site path to return to (never another host: ``//host`` and schemes are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/locale")
def switch_locale(request: Request, locale: str = Form(..., max_length=16), next: str = Form("/", max_length=2000),
                  actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """The language switch in the header: a signed-in user's preference is updated (audited, as on the
    preferences page); the choice is also kept in a cookie for the signed-out pages."""
    if locale not in LOCALES:
        return _refused(request, ctx, actor, InvalidInput([Problem.of("locale", "err_one_of", allowed=list(LOCALES))],
                                                          "locale"))
    if actor is not None:
        current = {k: (v.strftime("%H:%M") if hasattr(v, "strftime") else v)
                   for k, v in preferences(ctx, actor).items()}
        try:
            set_preferences(ctx, actor, current | {"locale": locale})
        except CasebookError as exc:
            return _refused(request, ctx, actor, exc)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax",
                        secure=request.app.state.cookie_secure)
    return response


@router.get("/", response_class=HTMLResponse)
def my_tasks(request: Request, actor: Actor | None = Depends(optional_actor),
             ctx: AppContext = Depends(app_ctx)) -> Response:
    """The home page: everything the signed-in person owes, of every kind."""
    if actor is None:
        return _login_redirect()
    return page(request, ctx, actor, "tasks.html", items=inbox(ctx, actor), tz=ctx.clock.tz,
                done=request.query_params.get("done"))


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
    return RedirectResponse(f"/tasks/{task_id}?done=claimed", status_code=303)


@router.post("/tasks/{task_id}/release")
def release_task(task_id: int, request: Request, actor: Actor | None = Depends(optional_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        queue.release(ctx, actor, task_id)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/?done=released", status_code=303)


def _desk(request: Request, ctx: AppContext, actor: Actor, task_id: int, *, status: int = 200,
          form: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
          notice: str | None = None) -> Response:
    """The decision page: the case at the reviewer's tier, pre-checks, what changed since the last round."""
    try:
        sheet = desk(ctx, actor, task_id)
        view, audience = rendered_view(ctx, actor, sheet.task.case_key)
        changes = []
        if sheet.previous_version and sheet.previous_version != view.version_no:
            before = render_view(ctx, CaseService(ctx).view(actor, sheet.task.case_key,
                                                            version=sheet.previous_version), audience)
            changes = section_diffs(before.document, view.document)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return page(request, ctx, actor, "review.html", status=status, task=sheet.task, sheet=sheet, view=view,
                doc=view.document, audience=audience, changes=changes, sections=SECTIONS,
                rubric=ctx.policy.doc.review.rubric, form=form or {}, errors=errors or {}, notice=notice,
                done=request.query_params.get("done"), tz=ctx.clock.tz)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(task_id: int, request: Request, actor: Actor | None = Depends(optional_actor),
              ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    return _desk(request, ctx, actor, task_id)


@router.post("/tasks/{task_id}/decide")
async def decide_task(task_id: int, request: Request, actor: Actor | None = Depends(optional_actor),
                      ctx: AppContext = Depends(app_ctx)) -> Response:
    """Scores start empty; a score below the pass mark turns an approval into a return (the page comes back
    with the return chosen and asks for reasons anchored to sections), never an error page."""
    if actor is None:
        return _login_redirect()
    form = await request.form()
    rubric = ctx.policy.doc.review.rubric
    scores = {c: int(str(form[f"score_{c}"])) for c in rubric.criteria if str(form.get(f"score_{c}", "")).isdigit()}
    reasons = [{"section": sec, "text": str(form.get(f"reason_{sec}")).strip()} for sec in SECTIONS
               if str(form.get(f"reason_{sec}") or "").strip()]
    decision = str(form.get("decision") or "")
    kept = {k: str(v) for k, v in form.items()}
    low = below_pass_mark(rubric, scores)
    if decision == "approve" and low:
        kept["decision"] = "return"
        return _desk(request, ctx, actor, task_id, status=422, form=kept,
                     notice="below_pass_mark", errors={f"score_{c}": ["below_pass_mark"] for c in low})
    payload: dict[str, Any] = {"decision": decision, "scores": scores, "reasons": reasons,
                               "comment": str(form.get("comment") or "").strip() or None}
    try:
        with task_refusal(task_id):
            decisions.decide(ctx, actor, task_id, payload, ip=client_ip(request))
    except InvalidInput as exc:
        return _desk(request, ctx, actor, task_id, status=422, form=kept,
                     errors=_field_errors(request, ctx, actor, [Problem(p.field.replace("scores.", "score_")
                                                           .replace("reasons", "reason"), p.rule)
                                                   for p in exc.problems]))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/?done=decided_{decision}", status_code=303)


def _highlighted(text: str, findings: list[dict[str, Any]]) -> Markup:
    """``text`` with each finding wrapped in ``<mark>`` (escaped; overlapping findings are merged)."""
    out, at = [], 0
    for f in sorted(findings, key=lambda f: f["start"]):
        start, end = max(f["start"], at), f["end"]
        if end <= start:
            continue
        out += [str(escape(text[at:start])), f'<mark data-entity="{escape(f["entity_type"])}">',
                str(escape(text[start:end])), "</mark>"]
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


@router.get("/cases/{key}/signoff", response_class=HTMLResponse)
def signoff_page(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    """The committee's sign-off: findings highlighted in the text, every tier's rendering side by side."""
    if actor is None:
        return _login_redirect()
    try:
        data = signoff.sheet(ctx, actor, key)
        view = CaseService(ctx).view(actor, key)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    texts = dict(text_fields(view.document))
    fields = [(path, _highlighted(text, [f for f in data["findings"] if f["field"] == path]))
              for path, text in texts.items()]
    tiers = {name: dict(text_fields(doc)) for name, doc in data["renderings"].items()}
    return page(request, ctx, actor, "signoff.html", key=key, data=data, fields=fields, tiers=tiers,
                paths=list(texts), entities=ENTITY_NAMES, done=request.query_params.get("done"))


@router.post("/cases/{key}/signoff")
def signoff_change(key: str, request: Request, action: str = Form(""), field: str = Form(""),
                   text: str = Form(""), start: str = Form(""), end: str = Form(""), entity_type: str = Form(""),
                   actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """Add a missed finding (by the text to mark) or remove one (by its span)."""
    if actor is None:
        return _login_redirect()
    try:
        if start.isdigit() and end.isdigit():
            first, last = int(start), int(end)
        else:
            found = dict(text_fields(CaseService(ctx).view(actor, key).document)).get(field, "").find(text.strip())
            if not text.strip() or found < 0:
                raise InvalidInput([Problem.of("text", "err_passage_of_field")], "override")
            first, last = found, found + len(text.strip())
        signoff.override(ctx, actor, key, action=action, field=field, start=first, end=last,
                         entity_type=entity_type or None, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}/signoff?done=finding_{action}", status_code=303)


@router.post("/accounts/{username}/unfreeze")
def unfreeze_page(username: str, request: Request, reason: str = Form(""),
                  actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        unfreeze(ctx, actor, username, reason, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/?done=unfrozen", status_code=303)


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, actor: Actor | None = Depends(optional_actor),
                     ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    return page(request, ctx, actor, "preferences.html", values=preferences(ctx, actor), errors={},
                channels=CHANNELS, modes=MODES, locales=LOCALES, done=request.query_params.get("done"))


@router.post("/preferences")
async def save_preferences(request: Request, actor: Actor | None = Depends(optional_actor),
                           ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    form = {k: str(v) for k, v in (await request.form()).items()
            if k in ("channel", "mode", "quiet_start", "quiet_end", "locale", "chat_url")}
    try:
        set_preferences(ctx, actor, form)
    except InvalidInput as exc:
        return page(request, ctx, actor, "preferences.html", status=422, values=form,
                    errors=_field_errors(request, ctx, actor, exc.problems), channels=CHANNELS, modes=MODES, locales=LOCALES,
                    done=None)
    return RedirectResponse("/preferences?done=saved", status_code=303)


@router.post("/work/{item_id}/close")
def close_work(item_id: int, request: Request, decision: str = Form(""), reason: str = Form(""),
               actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """Close a work item from the inbox (an evaluation's renew or retire fires that transition)."""
    if actor is None:
        return _login_redirect()
    try:
        close_work_item(ctx, actor, item_id, decision, reason, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/?done=closed_{decision}", status_code=303)


@router.post("/access-requests/{request_id}/decide")
def decide_access_page(request_id: int, request: Request, decision: str = Form(""),
                       actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        status = decide_access(ctx, actor, request_id, decision == "approve", ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/?done=access_{status}", status_code=303)


def _mandatory_inputs(ctx: AppContext) -> set[str]:
    paths = ctx.policy.doc.intake.mandatory_on_submit.values()
    return {p.replace("body.", "body_") if p != "budget" else "budget_amount" for p in paths}


def _capture(request: Request, ctx: AppContext, actor: Actor, *, action: str, values: dict[str, Any],
             errors: dict[str, list[str]] | None = None, case_key: str | None = None, status: int = 200) -> Response:
    facets = list(ctx.policy.doc.tag_facets)
    values = {"metric_rows": forms.SPARE_ROWS + 1, "source_rows": forms.SPARE_ROWS + 1} | values
    shown = set(forms.SCALARS) | {f"body_{s}" for s in SECTIONS} | {"budget_amount", "budget_currency", "channels"} \
        | {f"tag_{f}" for f in facets} \
        | {f"metric_{i}_{p}" for i in range(int(values["metric_rows"])) for p in ("name", "value", "unit", "kind", "source")} \
        | {f"source_{i}_{p}" for i in range(int(values["source_rows"]))
           for p in ("name", "kind", "validation_method", "interviewees")} | {"metrics", "data_sources", "budget"}
    with reading(), ctx.engine.connect() as conn:
        owners = dict(owner_choices(conn))
    current = str(values.get("owner") or "")
    if current and current not in owners:   # a name typed through the API or a user since made inactive: kept
        owners[current] = current
    return page(request, ctx, actor, "capture.html", status=status, values=values, errors=errors or {},
                policy=ctx.policy.doc, sections=SECTIONS, action=action, case_key=case_key, shown_fields=shown,
                mandatory=_mandatory_inputs(ctx), owners=owners)


def _posted_values(form: Any, facets: list[str]) -> dict[str, Any]:
    """The posted form as the template shows it again (multi-selects as lists, row counts kept)."""
    values: dict[str, Any] = {k: v for k, v in form.items()}
    for facet in facets:
        values[f"tag_{facet}"] = form.getlist(f"tag_{facet}")
    for prefix, key in (("metric", "metric_rows"), ("source", "source_rows")):
        rows = [int(k.split("_")[1]) for k in form.keys() if k.startswith(prefix + "_") and k.split("_")[1].isdigit()]
        values[key] = (max(rows) + 1 if rows else 0) + 1
    return values


def _after_save(request: Request, ctx: AppContext, actor: Actor, key: str, form: Any, facets: list[str],
                action: str) -> Response:
    """'Save and submit': submit now; an incomplete checklist comes back as field errors on the edit form."""
    if form.get("action") != "submit":
        return RedirectResponse(f"/cases/{key}?done=saved", status_code=303)
    svc = CaseService(ctx)
    view = svc.view(actor, key)
    problems = submit_problems(ctx.policy, view.document)
    if problems:
        return _capture(request, ctx, actor, action=action, case_key=key, status=422,
                        values=_posted_values(form, facets), errors=_field_errors(request, ctx, actor, problems))
    event = "resubmit" if view.state == "returned" else "submit"
    try:
        svc.fire(actor, key, event, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}?done={event}", status_code=303)


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, actor: Actor | None = Depends(optional_actor),
                  ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    if not ctx.policy.may(actor.role, "case.create", own=False):   # refused before the form is filled, not after
        return _refused(request, ctx, actor, Forbidden.of("err_lacks_permission", role=actor.role,
                                                                  permission="case.create"))
    return _capture(request, ctx, actor, action="/cases/new",
                    values={"department": actor.department or "", "owner": actor.username, "budget_currency": "CNY"})


@router.post("/cases/new")
async def new_case(request: Request, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    form = await request.form()
    facets = list(ctx.policy.doc.tag_facets)
    doc = {k: v for k, v in forms.form_document(form, facets).items() if v not in (None, [], {})}
    try:
        key = CaseService(ctx).create(actor, doc, ip=client_ip(request))
    except InvalidInput as exc:
        return _capture(request, ctx, actor, action="/cases/new", status=422, values=_posted_values(form, facets),
                        errors=_field_errors(request, ctx, actor, exc.problems))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return _after_save(request, ctx, actor, key, form, facets, f"/cases/{key}/edit")


@router.get("/cases/{key}/edit", response_class=HTMLResponse)
def edit_case_form(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        view = CaseService(ctx).view(actor, key)
        # the form holds the stored (unredacted) text: only someone who may edit the case now sees it
        if view.state not in EDITABLE_STATES:
            raise Forbidden.of("err_edit_states", states=sorted(EDITABLE_STATES))
        if not ctx.policy.may(actor.role, "case.edit", own=view.viewer_is_author):
            raise Forbidden.of("err_lacks_permission_on", role=actor.role, permission="case.edit", case=key)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    values = forms.form_values(view.document, list(ctx.policy.doc.tag_facets))
    return _capture(request, ctx, actor, action=f"/cases/{key}/edit", values=values, case_key=key)


@router.post("/cases/{key}/edit")
async def edit_case(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
                    ctx: AppContext = Depends(app_ctx)) -> Response:
    """Saves only what the author changed: the posted form is compared with the current version."""
    if actor is None:
        return _login_redirect()
    form = await request.form()
    facets = list(ctx.policy.doc.tag_facets)
    svc = CaseService(ctx)
    try:
        current = svc.view(actor, key).document
        changes = forms.changed_only(current, forms.form_document(form, facets))
        if changes:
            svc.edit(actor, key, changes, note=str(form.get("note") or "") or None, ip=client_ip(request))
    except InvalidInput as exc:
        return _capture(request, ctx, actor, action=f"/cases/{key}/edit", case_key=key, status=422,
                        values=_posted_values(form, facets), errors=_field_errors(request, ctx, actor, exc.problems))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return _after_save(request, ctx, actor, key, form, facets, f"/cases/{key}/edit")


@router.post("/cases/{key}/events/{event}")
def fire_event(key: str, event: str, request: Request, reason: str = Form(""), confirm: str = Form(""),
               actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """Every allowed event is a button on the case page; irreversible ones need the confirmation box ticked."""
    if actor is None:
        return _login_redirect()
    if event in IRREVERSIBLE and not confirm:
        return _refused(request, ctx, actor, InvalidInput([Problem.of("confirm", "err_tick_to_confirm")], event))
    try:
        CaseService(ctx).fire(actor, key, event, reason=reason.strip() or None, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}?done={event}", status_code=303)


@router.get("/my-cases", response_class=HTMLResponse)
def my_cases_page(request: Request, actor: Actor | None = Depends(optional_actor),
                  ctx: AppContext = Depends(app_ctx)) -> Response:
    """The author's and owner's own cases: state, due date, next step."""
    if actor is None:
        return _login_redirect()
    w = writer(_locale(request, ctx, actor), ctx.policy)
    q = request.query_params
    table = tables.paged(my_cases(ctx, actor), {"case": lambda r: r.key, "title": lambda r: r.title,
                                                "state": lambda r: w.t(f"state_{r.state}"), "due": lambda r: r.due},
                         sort=q.get("sort"), direction=q.get("dir"), page=q.get("p"), default="due",
                         base="/my-cases")
    return page(request, ctx, actor, "my_cases.html", table=table, rows=table.rows)


@router.get("/cases/{key}", response_class=HTMLResponse)
def case_page(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
              ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    svc = CaseService(ctx)
    try:
        view, audience = read_case(ctx, actor, key, via="page", ip=client_ip(request))
    except Forbidden as exc:
        # offer the access form only to someone whose request policy would accept
        offer = key if requestable(ctx, actor, key) else None
        return page(request, ctx, actor, "error.html", status=403, heading="error_forbidden",
                    message=describe(exc, _locale(request, ctx, actor)), access_key=offer)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    shows_trail = ctx.policy.may(actor.role, "audit.read", own=False)
    versions, events = svc.history(actor, key, events=shows_trail)
    versions = [v for v in versions if v.number <= view.version_no]  # no version past the one this reader sees
    rendered = []
    for v in versions:
        other = view if v.number == view.version_no else svc.view(actor, key, version=v.number)
        rendered.append((v, other.document if other is view else render_view(ctx, other, audience).document))
    diffs = [(v.number, section_diffs(prev, doc)) for (_, prev), (v, doc) in zip(rendered, rendered[1:])]
    trail = events if shows_trail else []
    try:
        similar = similar_cases(ctx, actor, key)
    except CasebookError:
        similar = []
    events = [e for e in svc.allowed_events(actor, key) if e not in REVIEW_EVENTS]
    editable = view.state in EDITABLE_STATES and ctx.policy.may(actor.role, "case.edit", own=view.viewer_is_author)
    return page(request, ctx, actor, "case.html", view=view, doc=view.document, audience=audience,
                events=events, editable=editable, irreversible=IRREVERSIBLE, reason_required=REASON_REQUIRED,
                done=request.query_params.get("done"),
                sections=SECTIONS, versions=versions, diffs=diffs, trail=trail, similar=similar,
                scale=ctx.policy.doc.ratings.scale_max, tz=ctx.clock.tz,
                following=is_following(ctx, actor, key) if view.published_version_no else None,
                **links_box(ctx, actor, key))


@router.post("/cases/{key}/rate")
def rate_page(key: str, request: Request, stars: int = Form(...), comment: str = Form(""),
              actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        rate(ctx, actor, key, stars, comment or None)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}?done=rated", status_code=303)


@router.post("/cases/{key}/follow")
def follow_page(key: str, request: Request, follow_it: str = Form("on", alias="follow"),
                actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """Follow or stop following a case (``notifications.follows``): followers hear of its takedown."""
    if actor is None:
        return _login_redirect()
    try:
        if follow_it == "on":
            follow(ctx, actor, key, ip=client_ip(request))
        else:
            unfollow(ctx, actor, key, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}?done={'followed' if follow_it == 'on' else 'unfollowed'}",
                            status_code=303)


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
    return RedirectResponse(f"/cases/{key}?done=correction_sent", status_code=303)


@router.post("/cases/{key}/access")
def access_page(key: str, request: Request, reason: str = Form(...), actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        request_access(ctx, actor, key, reason, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return page(request, ctx, actor, "notice.html", status=202, heading="access_requested",
                message=translator(_locale(request, ctx, actor))("access_requested_detail", key=key))


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
    known = {f"{facet}:{v}" for facet, spec in ctx.policy.doc.tag_facets.items() for v in spec.values}
    return page(request, ctx, actor, "search.html", q=q, tag=tag, hits=results.items if results else [],
                results=results, sort=sort, policy=ctx.policy.doc, known_tags=known)

"""Pages of learning and of links between cases: the learning page (my path with open and confirm, the case of
the day and its opt-in, the team's progress for the roles policy names), and the links box of a case (its own
page here; ``_case_links.html`` is the partial the case page includes, fed by ``library.links.links_box``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.users import Actor
from casebook.web.deps import app_ctx, client_ip, csrf_guard, optional_actor
from casebook.web.pages import _login_redirect, _refused, page
from library import learning, links

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
TaskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/learning")
def learning_page(request: Request, actor: Actor | None = Depends(optional_actor),
                  ctx: AppContext = Depends(app_ctx)) -> Response:
    """My learning path, the case of the day, and (for progress roles) the team's progress."""
    if actor is None:
        return _login_redirect()
    tasks = learning.my_learning(ctx, actor)
    team = learning.team_progress(ctx, actor) if learning.may_see_progress(ctx, actor) else None
    return page(request, ctx, actor, "learning.html", tasks=tasks, done_count=sum(t.status == "done" for t in tasks),
                today=learning.todays_case(ctx, actor), case_of_day=learning.case_of_day_enabled(ctx, actor),
                no_repeat_days=ctx.policy.doc.learning.case_of_day_no_repeat_days, team=team, tz=ctx.clock.tz,
                done=request.query_params.get("done"))


@router.get("/learning/{task_id}/open")
def open_task(task_id: TaskId, request: Request, actor: Actor | None = Depends(optional_actor),
              ctx: AppContext = Depends(app_ctx)) -> Response:
    """Record that the learner opened the case, then show it (the case page records the read itself)."""
    if actor is None:
        return _login_redirect()
    try:
        key = learning.mark_opened(ctx, actor, task_id)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}", status_code=303)


@router.post("/learning/{task_id}/confirm")
def confirm_task(task_id: TaskId, request: Request, actor: Actor | None = Depends(optional_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        learning.confirm(ctx, actor, task_id, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/learning?done=confirmed", status_code=303)


@router.post("/learning/case-of-day")
def case_of_day(request: Request, enabled: str = Form(""), actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    on = learning.set_case_of_day(ctx, actor, enabled == "on", ip=client_ip(request))
    return RedirectResponse(f"/learning?done=case_of_day_{'on' if on else 'off'}", status_code=303)


@router.get("/cases/{key}/links")
def links_page(key: str, request: Request, actor: Actor | None = Depends(optional_actor),
               ctx: AppContext = Depends(app_ctx)) -> Response:
    """The links box of one case on its own page (the same partial the case page includes)."""
    if actor is None:
        return _login_redirect()
    try:
        data = links.links_box(ctx, actor, key)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return page(request, ctx, actor, "case_links.html", key=key, done=request.query_params.get("done"), **data)


@router.post("/cases/{key}/links")
def add_link(key: str, request: Request, kind: str = Form(""), target: str = Form("", max_length=32),
             note: str = Form("", max_length=links.NOTE_MAX), back: str = Form(""),
             actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        links.link_cases(ctx, actor, key, kind, target.strip(), note=note, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"{_back(key, back, key)}?done=linked", status_code=303)


@router.post("/cases/{key}/links/remove")
def remove_link(key: str, request: Request, kind: str = Form(""), target: str = Form("", max_length=32),
                reason: str = Form("", max_length=2000), back: str = Form(""), view: str = Form(""),
                actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """Remove a link seen from either case (``key`` is the source of the link as stored)."""
    if actor is None:
        return _login_redirect()
    try:
        links.unlink_cases(ctx, actor, key, kind, target, reason=reason, ip=client_ip(request))
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"{_back(view if view == target else key, back, key)}?done=unlinked",
                            status_code=303)


def _back(shown: str, back: str, key: str) -> str:
    """Where a links form returns: the case page or the links page of the case it was shown on (one of the two
    linked cases, never elsewhere)."""
    shown = shown or key
    return f"/cases/{shown}" if back == "case" else f"/cases/{shown}/links"

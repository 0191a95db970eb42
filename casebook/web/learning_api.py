"""The JSON API of learning and of links between cases (under /api/v1): the caller's learning tasks and their
confirmation, the case-of-the-day opt-in, the learning progress a department head sees, and the links of a case
(only those whose other case the caller may read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from casebook.core.context import AppContext
from casebook.core.users import Actor
from casebook.web.deps import api_actor, app_ctx, client_ip, csrf_guard
from library import learning, links

router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_guard)])
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
CaseKey = Annotated[str, Path(min_length=1, max_length=32)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseOfDayIn(Strict):
    enabled: bool


class LinkIn(Strict):
    kind: str = Field(min_length=1, max_length=32)
    target: str = Field(min_length=1, max_length=32)
    note: str | None = Field(default=None, max_length=links.NOTE_MAX)


@router.get("/me/learning", tags=["learning"])
def my_learning(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """The caller's learning tasks in path order (``status`` open, overdue or done; titles at the caller's tier),
    the case of the day (if opted in and picked today) and the opt-in."""
    today = learning.todays_case(ctx, actor)
    return {"tasks": [t.as_json(ctx.clock.tz) for t in learning.my_learning(ctx, actor)],
            "case_of_day": {"enabled": learning.case_of_day_enabled(ctx, actor),
                            "today": {"case": today.key, "title": today.title, "day": today.day} if today else None}}


@router.post("/me/learning/{task_id}/confirm", tags=["learning"])
def confirm(task_id: Id, request: Request, actor: Actor = Depends(api_actor),
            ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Confirm a learning task whose case the caller opened (422 naming ``case`` when it was not opened)."""
    new = learning.confirm(ctx, actor, task_id, ip=client_ip(request))
    return {"status": "done", "new": new}


@router.put("/me/case-of-day", tags=["learning"])
def case_of_day(body: CaseOfDayIn, request: Request, actor: Actor = Depends(api_actor),
                ctx: AppContext = Depends(app_ctx)) -> dict[str, bool]:
    """Opt in to (or out of) the case of the day."""
    return {"enabled": learning.set_case_of_day(ctx, actor, body.enabled, ip=client_ip(request))}


@router.get("/learning/progress", tags=["learning"])
def progress(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[dict[str, Any]]:
    """Learning progress per learner: the caller's department for department-scoped roles (403 for roles policy
    ``learning.progress_roles`` does not name)."""
    return [p.as_json(ctx.clock.tz) for p in learning.team_progress(ctx, actor)]


@router.get("/cases/{key}/links", tags=["links"])
def case_links(key: CaseKey, actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> list[dict[str, Any]]:
    """The links of a case the caller may read, each seen from this case (``wording``: supersedes or
    superseded_by, follow_up or follow_up_of, related, contradicts); links to cases the caller may not read are
    left out."""
    return [link.as_json() for link in links.visible_links(ctx, actor, key)]


@router.post("/cases/{key}/links", tags=["links"])
def add_link(key: CaseKey, body: LinkIn, request: Request, actor: Actor = Depends(api_actor),
             ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Link this case to ``target`` (``kind`` from policy ``links.kinds``; roles of ``links.create_roles``)."""
    new = links.link_cases(ctx, actor, key, body.kind, body.target, note=body.note, ip=client_ip(request))
    return {"case": key, "kind": body.kind, "target": body.target, "new": new}


@router.delete("/cases/{key}/links", tags=["links"])
def remove_link(key: CaseKey, request: Request, kind: Annotated[str, Query(min_length=1, max_length=32)],
                target: Annotated[str, Query(min_length=1, max_length=32)],
                reason: Annotated[str, Query(min_length=1, max_length=2000)],
                actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Remove a link, with a reason (audited)."""
    return {"removed": links.unlink_cases(ctx, actor, key, kind, target, reason=reason, ip=client_ip(request))}

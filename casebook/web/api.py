"""The JSON API under /api/v1. Every case text goes through ``redaction`` at the caller's tier; 401 without
credentials, 403 when policy forbids, never the data."""

from __future__ import annotations

from datetime import date

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from library import dashboard, search
from library.inbox import inbox
from lifecycle.work import close_work_item
from access.requests import decide_access, request_access
from access.accounts import sign_in
from casebook.core.context import AppContext
from library.export import export_markdown
from casebook.core.users import Actor
from casebook.web.deps import api_actor, app_ctx, client_ip, csrf_guard, task_refusal
from library.feedback import rate, request_correction
from lifecycle.service import CaseService
from redaction.views import read_case
from review import decisions, queue

router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_guard)])
MAX_ID = 2_147_483_647  # database integer range: larger ids cannot exist, so they are refused as input
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TransitionIn(Strict):
    event: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)


class CorrectionIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class RatingIn(Strict):
    stars: int = Field(ge=1, le=100)
    comment: str | None = Field(default=None, max_length=2000)


class AccessIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AccessDecisionIn(Strict):
    approve: bool


class CloseIn(Strict):
    decision: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=2000)


def _case_out(view: Any, audience: Any) -> dict[str, Any]:
    return {"key": view.key, "state": view.state, "review_level": view.review_level, "version": view.version_no,
            "published_version": view.published_version_no, "tier": audience.clearance,
            **{k: v for k, v in view.facts.items() if k != "policy_version"}, "document": view.document}


@router.post("/auth/token", tags=["auth"])
def token(body: TokenIn, request: Request, ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    """Exchange a user name and password for a bearer token: 401 for wrong credentials, 429 while the name or
    the client address is locked after repeated failures."""
    return {"token": sign_in(ctx, body.username, body.password, kind="api", ip=client_ip(request)),
            "token_type": "bearer"}


@router.get("/me", tags=["auth"])
def me(actor: Actor = Depends(api_actor)) -> dict[str, Any]:
    return {"username": actor.username, "role": actor.role, "department": actor.department,
            "clearance": actor.clearance}


@router.get("/me/tasks", tags=["auth"])
def my_tasks(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[dict[str, Any]]:
    """Everything the caller owes, of every kind, soonest due first (``id``, ``kind``, ``case``, ``due``,
    ``status``, ``title`` at the caller's tier, ``actions``; a system-written ``reason`` in the caller's language)."""
    from casebook.core.users import get_user

    with ctx.sessions() as session:
        locale = get_user(session, actor.username).locale if not actor.is_system else None
    return [i.as_json(ctx.clock.tz, locale) for i in inbox(ctx, actor)]


@router.post("/work-items/{item_id}/close", tags=["work"])
def close_item(item_id: Id, body: CloseIn, request: Request, actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    """Close a work item with a decision and a reason (an evaluation's renew or retire fires that transition;
    a correction's answer goes to the requester)."""
    return {"status": close_work_item(ctx, actor, item_id, body.decision, body.reason, ip=client_ip(request))}


@router.get("/cases", tags=["cases"])
def list_cases(q: str = Query("", max_length=200), page: int = Query(1, ge=1, le=10_000),
               per_page: int = Query(20, ge=1, le=search.MAX_PER_PAGE), actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Published cases the caller may read, newest first or by relevance to ``q`` (titles and snippets at the
    caller's tier): ``{"total": n, "total_relation": "eq" or "gte", "items": [...]}``."""
    return search.search(ctx, actor, q, limit=per_page, page=page, facets=False).as_json()


@router.post("/cases", tags=["cases"], status_code=201)
def create_case(body: dict[str, Any], request: Request, actor: Actor = Depends(api_actor),
                ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    return {"key": CaseService(ctx).create(actor, body, ip=client_ip(request))}


@router.get("/cases/{key}", tags=["cases"])
def get_case(key: str, request: Request, version: int | None = Query(None, ge=1, le=MAX_ID),
             actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    view, audience = read_case(ctx, actor, key, via="api", ip=client_ip(request), version=version)
    return _case_out(view, audience)


@router.patch("/cases/{key}", tags=["cases"])
def edit_case(key: str, body: dict[str, Any], request: Request, actor: Actor = Depends(api_actor),
              ctx: AppContext = Depends(app_ctx)) -> dict[str, int]:
    return {"version": CaseService(ctx).edit(actor, key, body, ip=client_ip(request))}


@router.get("/cases/{key}/events", tags=["cases"])
def allowed_events(key: str, actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[str]:
    CaseService(ctx).view(actor, key)
    return CaseService(ctx).allowed_events(actor, key)


@router.post("/cases/{key}/transitions", tags=["cases"])
def transition(key: str, body: TransitionIn, request: Request, actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    return {"state": CaseService(ctx).fire(actor, key, body.event, reason=body.reason, ip=client_ip(request))}


@router.get("/cases/{key}/versions", tags=["cases"])
def versions(key: str, actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[dict]:
    rows, _events = CaseService(ctx).history(actor, key)
    return [{"number": v.number, "by": v.created_by, "at": v.created_at.isoformat(), "note": v.note} for v in rows]


@router.get("/cases/{key}/export", tags=["cases"], response_class=PlainTextResponse)
def export(key: str, request: Request, actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> str:
    """The case as Markdown at the caller's tier (audited; bulk downloads off-hours freeze the account)."""
    return export_markdown(ctx, actor, key, ip=client_ip(request))


@router.post("/cases/{key}/ratings", tags=["cases"], status_code=201)
def rate_case(key: str, body: RatingIn, actor: Actor = Depends(api_actor),
              ctx: AppContext = Depends(app_ctx)) -> dict[str, int]:
    rate(ctx, actor, key, body.stars, body.comment)
    return {"stars": body.stars}


@router.put("/cases/{key}/follow", tags=["cases"])
def follow_case(key: str, request: Request, actor: Actor = Depends(api_actor),
                ctx: AppContext = Depends(app_ctx)) -> dict[str, bool]:
    """Follow a case the caller may read (followers are told of a takedown); following twice changes nothing."""
    from notifications.follows import follow

    return {"following": True, "new": follow(ctx, actor, key, ip=client_ip(request))}


@router.delete("/cases/{key}/follow", tags=["cases"])
def unfollow_case(key: str, request: Request, actor: Actor = Depends(api_actor),
                  ctx: AppContext = Depends(app_ctx)) -> dict[str, bool]:
    """Stop following a case."""
    from notifications.follows import unfollow

    return {"following": False, "was_following": unfollow(ctx, actor, key, ip=client_ip(request))}


@router.post("/cases/{key}/corrections", tags=["cases"], status_code=201)
def correct_case(key: str, body: CorrectionIn, request: Request, actor: Actor = Depends(api_actor),
                 ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    """A reader's correction request: audited, the owner notified."""
    request_correction(ctx, actor, key, body.text, ip=client_ip(request))
    return {"status": "sent"}


@router.post("/cases/{key}/access-requests", tags=["access"], status_code=201)
def ask_access(key: str, body: AccessIn, request: Request, actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> dict[str, int]:
    return {"request": request_access(ctx, actor, key, body.reason, ip=client_ip(request))}


@router.post("/access-requests/{request_id}/decision", tags=["access"])
def decide_access_request(request_id: Id, body: AccessDecisionIn, request: Request,
                          actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    return {"status": decide_access(ctx, actor, request_id, body.approve, ip=client_ip(request))}


@router.get("/review/tasks", tags=["review"])
def tasks(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[dict[str, Any]]:
    """The caller's queue: claimable and claimed tasks by due time, with SLA status."""
    return [item.as_json(ctx.clock.tz) for item in queue.shown_queue(ctx, actor)]


@router.post("/review/tasks/{task_id}/claim", tags=["review"])
def claim(task_id: Id, actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, int]:
    with task_refusal(task_id):
        queue.claim(ctx, actor, task_id)
    return {"claimed": task_id}


@router.post("/review/tasks/{task_id}/decision", tags=["review"])
def decide(task_id: Id, body: decisions.DecisionInput, request: Request, actor: Actor = Depends(api_actor),
           ctx: AppContext = Depends(app_ctx)) -> dict[str, str]:
    with task_refusal(task_id):
        return {"state": decisions.decide(ctx, actor, task_id, body.model_dump(), ip=client_ip(request))}


@router.get("/search", tags=["search"])
def search_cases(q: str = Query("", max_length=200), tag: list[str] = Query(default=[], max_length=10),
                 library: str | None = Query(None, max_length=64), scenario: str | None = Query(None, max_length=64),
                 outcome: str | None = Query(None, max_length=64), state: str | None = Query(None, max_length=32),
                 department: str | None = Query(None, max_length=120), published_from: date | None = None,
                 published_to: date | None = None, sort: str = Query("relevance", max_length=16),
                 page: int = Query(1, ge=1, le=10_000), per_page: int = Query(20, ge=1, le=search.MAX_PER_PAGE),
                 actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Keyword (Chinese-aware, Traditional and Simplified alike) and tag search over what the caller may read,
    at the caller's tier. ``tag`` is facet:value, repeatable; filters narrow; ``sort`` is relevance, newest or
    rating. Answers ``{"total": n, "total_relation", "items": [...], "facets": {facet: {value: count}}, "page",
    "per_page"}``; ``total_relation`` "gte" when more cases match than ``search.MATCH_WINDOW`` (see there)."""
    tags = dict(t.split(":", 1) for t in tag if ":" in t)
    filters = search.Filters(library, scenario, outcome, state, department, published_from, published_to)
    return search.search(ctx, actor, q, tags, limit=per_page, filters=filters, sort=sort, page=page).as_json()


@router.get("/reports/dashboard", tags=["reports"])
def dashboard_report(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    return dashboard.figures_for(ctx, actor)


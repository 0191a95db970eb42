"""Request plumbing shared by the API and the pages: the context, the signed-in actor, client IP, errors."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from access.accounts import actor_for_token
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, Forbidden, IllegalTransition, InvalidInput
from casebook.core.users import Actor

SESSION_COOKIE = "casebook_session"
bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def app_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_actor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
                   ctx: AppContext = Depends(app_ctx)) -> Actor | None:
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    return actor_for_token(ctx, token)


def api_actor(actor: Actor | None = Depends(optional_actor)) -> Actor:
    """401 without valid credentials: the data is never served to an unknown caller."""
    if actor is None:
        raise HTTPException(status_code=401, detail="authentication required",
                            headers={"WWW-Authenticate": "Bearer"})
    return actor


def problem_response(exc: CasebookError) -> JSONResponse:
    status = exc.http_status
    body: dict = {"error": str(exc)}
    if isinstance(exc, InvalidInput):
        body["problems"] = [{"field": p.field, "rule": p.rule} for p in exc.problems]
    if isinstance(exc, IllegalTransition):
        body["state"] = getattr(exc, "state", None)
        body["allowed_events"] = getattr(exc, "allowed", None)
    challenge = getattr(exc, "challenge", None)   # a 401 says how to authenticate
    return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": challenge} if challenge else None)

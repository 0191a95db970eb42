"""Request plumbing shared by the API and the pages: the context, the signed-in actor, client IP, the CSRF
guard, errors."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from access.accounts import SignInLocked, actor_for_token
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, Forbidden, IllegalTransition, InvalidInput, NotFound
from casebook.core.users import Actor
from casebook.web import csrf
from casebook.web.csrf import SESSION_COOKIE

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def app_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def csrf_guard(request: Request) -> None:
    """Router-wide dependency: every state-changing page form and cookie-authenticated API call passes the
    CSRF rule (``casebook.web.csrf``) before its handler runs."""
    await csrf.protect(request, request.app.state.ctx.settings.trusted_origins)


def cookie_secure(configured: bool | None, listen_host: str | None) -> bool:
    """``CASEBOOK_COOKIE_SECURE`` if set; otherwise on, unless the server listens on a loopback address only
    (a plain-HTTP local instance; anything reachable from elsewhere is expected behind HTTPS)."""
    if configured is not None:
        return configured
    if listen_host is None:
        return True
    if listen_host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(listen_host).is_loopback
    except ValueError:
        return True


@contextmanager
def task_refusal(task_id: int) -> Iterator[None]:
    """A missing review task and one the actor may not act on get one answer (status and body), so task ids
    cannot be enumerated."""
    try:
        yield
    except (NotFound, Forbidden):
        raise NotFound.of("err_task_not_open_to_you", id=task_id) from None


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


def problem_response(exc: CasebookError, locale: str | None = None) -> JSONResponse:
    """The refusal as JSON: ``error`` and each problem's ``rule`` in English (stable for programs), with
    ``locale`` also ``message`` (the whole error) and each problem's ``message`` in the reader's language."""
    from casebook.core.errors import describe, describe_problem

    status = exc.http_status
    body: dict = {"error": str(exc)}
    if locale:
        body["message"] = describe(exc, locale)
        body["locale"] = locale
    if isinstance(exc, InvalidInput):
        body["problems"] = [{"field": p.field, "rule": p.rule}
                            | ({"message": describe_problem(p, locale)} if locale else {}) for p in exc.problems]
    if isinstance(exc, IllegalTransition):
        body["state"] = getattr(exc, "state", None)
        body["allowed_events"] = getattr(exc, "allowed", None)
    challenge = getattr(exc, "challenge", None)   # a 401 says how to authenticate
    headers = {"WWW-Authenticate": challenge} if challenge else {}
    if isinstance(exc, SignInLocked):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=status, headers=headers or None)

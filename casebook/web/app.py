"""The FastAPI application: JSON API under /api/v1 (OpenAPI and a plain reference page for signed-in users
only), pages, vendored assets; security headers and the body-size limit wrap everything, errors included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from access.accounts import actor_for_token
from casebook.assembly import build_context
from casebook.core import i18n
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, InvalidInput, Problem, pydantic_problems
from casebook.web import (api, apidocs, export_pages, learning_api, learning_pages, pages, partner_api,
                          report_pages)
from casebook.web.csrf import SESSION_COOKIE
from casebook.web.deps import cookie_secure, problem_response
from casebook.web.guards import BodyLimit, SecurityHeaders


class CasebookApp(FastAPI):
    """FastAPI whose whole stack, Starlette's own 500 answer included, sits inside the security headers and
    the body limit."""

    def build_middleware_stack(self) -> Any:
        inner = super().build_middleware_stack()
        return SecurityHeaders(BodyLimit(inner, lambda: self.state.ctx.policy.doc.security.max_request_bytes))


#: Where a validation location names the request part rather than the field (dropped from the field path).
REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def request_locale(request: Request) -> str:
    """The reader's language: the signed-in user's (bearer token or session cookie), else Accept-Language."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            actor = actor_for_token(request.app.state.ctx, token)
            if actor is not None and actor.user_id is not None:
                from sqlalchemy import select

                from casebook.core.users import User

                with request.app.state.ctx.engine.connect() as conn:
                    locale = conn.execute(select(User.__table__.c.locale)
                                          .where(User.__table__.c.id == actor.user_id)).scalar_one_or_none()
                if locale:
                    return i18n.normalise_locale(locale)
        except Exception:  # noqa: BLE001 - an error page never fails for want of a language
            pass
    return i18n.negotiate(request.headers.get("accept-language"))


def create_app(ctx: AppContext | None = None, *, listen_host: str | None = None) -> FastAPI:
    """The application; ``listen_host`` is the address the server binds (it decides the cookies' Secure flag
    when ``CASEBOOK_COOKIE_SECURE`` is unset)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.ctx.access_log.flush()  # views and downloads still queued are written before the server stops

    app = CasebookApp(title="Casebook", version="1", openapi_url=None, docs_url=None, redoc_url=None,
                      lifespan=lifespan)
    app.state.ctx = ctx or build_context()
    app.state.cookie_secure = cookie_secure(app.state.ctx.settings.cookie_secure, listen_host)

    @app.middleware("http")
    async def refuse_control_characters(request: Request, call_next):  # type: ignore[no-untyped-def]
        """NUL and other control characters in a path or query are refused before any handler sees them."""
        from urllib.parse import unquote

        raw = unquote(request.url.path) + unquote(request.url.query)
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in raw):
            return JSONResponse({"error": i18n.gettext("err_control_characters_path", "en"),
                                 "message": i18n.gettext("err_control_characters_path", request_locale(request))},
                                status_code=400)
        return await call_next(request)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        """A value the database cannot hold (e.g. NUL in text): the transaction rolled back; the caller is told."""
        return JSONResponse({"error": i18n.gettext("err_cannot_store", "en"),
                             "message": i18n.gettext("err_cannot_store", request_locale(request))}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """Request validation in the house format: 422 naming each field and its rule (a page for forms)."""
        problems = pydantic_problems(exc.errors(), strip=REQUEST_PARTS, default="body")
        return await casebook_error(request, InvalidInput(problems or [Problem.of("body", "err_invalid")], "request"))

    @app.exception_handler(CasebookError)
    async def casebook_error(request: Request, exc: CasebookError) -> Response:
        if not request.url.path.startswith("/api/"):
            return pages._refused(request, app.state.ctx, None, exc)
        return problem_response(exc, request_locale(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """FastAPI's answer (``detail``), with the reader's ``message`` on the API's 401 and 404."""
        response = await http_exception_handler(request, exc)
        if not request.url.path.startswith("/api/"):
            return response
        key = {401: "err_authentication_required", 404: "err_not_found_path", 405: "err_method_not_allowed"}
        if exc.status_code not in key:
            return response
        locale = request_locale(request)
        return JSONResponse({"detail": exc.detail, "message": i18n.gettext(key[exc.status_code], locale),
                             "locale": locale}, status_code=exc.status_code, headers=dict(exc.headers or {}))

    app.include_router(apidocs.router)
    app.include_router(api.router)
    app.include_router(export_pages.router)
    app.include_router(partner_api.router)
    app.include_router(learning_api.router)
    app.include_router(learning_pages.router)
    app.include_router(report_pages.api_router)
    app.include_router(pages.router)
    app.include_router(report_pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    return app

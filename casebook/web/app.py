"""The FastAPI application: JSON API under /api/v1 (OpenAPI and a plain reference page for signed-in users
only), pages, vendored assets; security headers and the body-size limit wrap everything, errors included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError

from casebook.assembly import build_context
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, InvalidInput, Problem
from casebook.web import (api, apidocs, export_pages, learning_api, learning_pages, pages, partner_api,
                          report_pages)
from casebook.web.deps import cookie_secure, problem_response
from casebook.web.guards import BodyLimit, SecurityHeaders


class CasebookApp(FastAPI):
    """FastAPI whose whole stack, Starlette's own 500 answer included, sits inside the security headers and
    the body limit."""

    def build_middleware_stack(self) -> Any:
        inner = super().build_middleware_stack()
        return SecurityHeaders(BodyLimit(inner, lambda: self.state.ctx.policy.doc.security.max_request_bytes))


def _field(loc: tuple[Any, ...]) -> str:
    """A validation location as the caller named the field: ``("body", "stars")`` -> ``stars``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "body"


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
            return JSONResponse({"error": "the path or query contains control characters"}, status_code=400)
        return await call_next(request)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        """A value the database cannot hold (e.g. NUL in text): the transaction rolled back; the caller is told."""
        return JSONResponse({"error": "a value in the request cannot be stored (for example a NUL character)"},
                            status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """Request validation in the house format: 422 naming each field and its rule (a page for forms)."""
        problems = [Problem(_field(tuple(e.get("loc", ()))), str(e.get("msg", "invalid"))) for e in exc.errors()]
        return await casebook_error(request, InvalidInput(problems or [Problem("body", "invalid")], "request"))

    @app.exception_handler(CasebookError)
    async def casebook_error(request: Request, exc: CasebookError) -> Response:
        if not request.url.path.startswith("/api/"):
            return pages._refused(request, app.state.ctx, None, exc)
        return problem_response(exc)

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

"""The FastAPI application: JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json), pages, vendored assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError

from casebook.assembly import build_context
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.web import api, pages, partner_api
from casebook.web.deps import problem_response


def create_app(ctx: AppContext | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.ctx.access_log.flush()  # views and downloads still queued are written before the server stops

    app = FastAPI(title="Casebook", version="1", openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs",
                  redoc_url=None, lifespan=lifespan)
    app.state.ctx = ctx or build_context()

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

    @app.exception_handler(CasebookError)
    async def casebook_error(request: Request, exc: CasebookError) -> JSONResponse:
        if not request.url.path.startswith("/api/"):
            return pages._refused(request, app.state.ctx, None, exc)  # type: ignore[return-value]
        return problem_response(exc)

    app.include_router(api.router)
    app.include_router(partner_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    return app

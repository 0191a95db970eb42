"""Export downloads for pages and API alike: a search result as CSV, a case as PDF or Markdown — the domain
functions of ``library.export*`` at the caller's tier, each counted as downloads (bulk-download rule)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.i18n import negotiate
from casebook.core.users import Actor
from casebook.web.deps import api_actor, app_ctx, client_ip, problem_response
from library import search
from library.export import export_markdown
from library.export_csv import export_search_csv
from library.export_pdf import export_pdf

router = APIRouter()
_FORMATS = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf", "md": "text/markdown; charset=utf-8"}


def _download(body: bytes | str, name: str, kind: str) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(data, media_type=_FORMATS[kind], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _locale(request: Request) -> str | None:
    """An explicit Accept-Language wins for API callers; otherwise the user's own locale (``locale_of``)."""
    header = request.headers.get("accept-language")
    return negotiate(header) if header else None


def _case(kind: str, key: str, request: Request, actor: Actor, ctx: AppContext, via: str) -> Response:
    locale = _locale(request) if via == "api" else None   # pages: the user's own language, as the pages speak
    try:
        if kind == "pdf":
            body: bytes | str = export_pdf(ctx, actor, key, ip=client_ip(request), via=via, locale=locale)
        else:
            body = export_markdown(ctx, actor, key, ip=client_ip(request), via=via, locale=locale)
    except CasebookError as exc:
        return problem_response(exc)
    return _download(body, f"{key}.{kind}", kind)


@router.get("/api/v1/cases/{key}/export.pdf", tags=["cases"], response_class=Response)
def case_pdf_api(key: str, request: Request, actor: Actor = Depends(api_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    """The case as PDF at the caller's tier (a download: audited, counted by the bulk-download rule)."""
    return _case("pdf", key, request, actor, ctx, "api")


@router.get("/api/v1/cases/{key}/export.md", tags=["cases"], response_class=Response)
def case_md_api(key: str, request: Request, actor: Actor = Depends(api_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    """The case as Markdown at the caller's tier (a download, as above)."""
    return _case("md", key, request, actor, ctx, "api")


@router.get("/api/v1/search/export.csv", tags=["search"], response_class=Response)
def search_csv_api(request: Request, q: str = Query("", max_length=200),
                   tag: list[str] = Query(default=[], max_length=10),
                   library: str | None = Query(None, max_length=64), scenario: str | None = Query(None, max_length=64),
                   outcome: str | None = Query(None, max_length=64), state: str | None = Query(None, max_length=32),
                   department: str | None = Query(None, max_length=120), published_from: date | None = None,
                   published_to: date | None = None, sort: str = Query("relevance", max_length=16),
                   actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """What ``/api/v1/search`` finds, every page, as CSV at the caller's tier (UTF-8 with BOM; formula-like
    cells escaped); each case in it counts as one download."""
    tags = dict(t.split(":", 1) for t in tag if ":" in t)
    filters = search.Filters(library, scenario, outcome, state, department, published_from, published_to)
    try:
        body = export_search_csv(ctx, actor, q, tags, filters=filters, sort=sort, ip=client_ip(request),
                                 via="api", locale=_locale(request))
    except CasebookError as exc:
        return problem_response(exc)
    return _download(body, f"search-{ctx.clock.now():%Y%m%d-%H%M}.csv", "csv")


# ----- the same for signed-in pages (session cookie; GET, so no CSRF token): links on the search and case pages
@router.get("/cases/{key}/export.pdf", include_in_schema=False)
def case_pdf_page(key: str, request: Request, actor: Actor = Depends(api_actor),
                  ctx: AppContext = Depends(app_ctx)) -> Response:
    return _case("pdf", key, request, actor, ctx, "web")


@router.get("/cases/{key}/export.md", include_in_schema=False)
def case_md_page(key: str, request: Request, actor: Actor = Depends(api_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    return _case("md", key, request, actor, ctx, "web")


@router.get("/search/export.csv", include_in_schema=False)
def search_csv_page(request: Request, q: str = Query("", max_length=200), tag: str = Query("", max_length=200),
                    sort: str = Query("relevance", max_length=16), actor: Actor = Depends(api_actor),
                    ctx: AppContext = Depends(app_ctx)) -> Response:
    tags = dict([tag.split(":", 1)]) if ":" in tag else None
    try:
        body = export_search_csv(ctx, actor, q, tags, sort=sort if sort in search.SORTS else "relevance",
                                 ip=client_ip(request), via="web")
    except CasebookError as exc:
        return problem_response(exc)
    return _download(body, f"search-{ctx.clock.now():%Y%m%d-%H%M}.csv", "csv")

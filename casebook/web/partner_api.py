"""The partner API under /api/partner/v1: an API key in ``X-Partner-Key`` (made by `casebook partners add`),
scoped, rate-limited, expiring and revocable; public cases at the public tier only, every call audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.security import APIKeyHeader

from access.partners import Partner, authenticate
from casebook.core.context import AppContext
from casebook.web.deps import app_ctx, client_ip
from library import partner_feed

key_header = APIKeyHeader(name="X-Partner-Key", auto_error=False,
                          description="A partner key from `casebook partners add NAME --scope cases:read`")
router = APIRouter(prefix="/api/partner/v1", tags=["partner"])


def cases_reader(key: str | None = Security(key_header), ctx: AppContext = Depends(app_ctx)) -> Partner:
    """401 for a missing, unknown, expired or revoked key; 403 without the scope; 429 over the rate."""
    return authenticate(ctx, key, "cases:read")


@router.get("/cases")
def partner_cases(request: Request, page: int = Query(1, ge=1, le=1_000_000), size: int = Query(20, ge=1, le=500),
                  partner: Partner = Depends(cases_reader), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Published public cases, newest first, with a total for paging."""
    return partner_feed.list_cases(ctx, partner, page=page, size=size, ip=client_ip(request))


@router.get("/cases/{key}")
def partner_case(key: str, request: Request, partner: Partner = Depends(cases_reader),
                 ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """One published public case at the public tier."""
    return partner_feed.get_case(ctx, partner, key, ip=client_ip(request))

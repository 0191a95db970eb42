"""API reference for signed-in users only: the OpenAPI schema as JSON and a plain server-rendered page that
lists every operation with its parameters. No interactive UI, so nothing is loaded from a CDN and no script
runs (the schema can be opened in any OpenAPI tool)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from casebook.core.users import Actor
from casebook.web.deps import api_actor, optional_actor

router = APIRouter(prefix="/api/v1", include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/openapi.json")
def openapi_schema(request: Request, actor: Actor = Depends(api_actor)) -> dict[str, Any]:
    return request.app.openapi()


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of the schema as (method, path, summary, parameters, whether it takes a body)."""
    out = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "description": op.get("description", ""), "tags": op.get("tags", []),
                        "parameters": [(p["name"], p["in"], p.get("required", False))
                                       for p in op.get("parameters", [])],
                        "body": "requestBody" in op})
    return out


@router.get("/docs")
def reference_page(request: Request, actor: Actor | None = Depends(optional_actor)) -> Response:
    from casebook.web.pages import page

    if actor is None:
        return RedirectResponse("/login", status_code=303)
    return page(request, request.app.state.ctx, actor, "api_docs.html", ops=operations(request.app.openapi()))

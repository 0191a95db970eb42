"""Case views at the viewer's tier: the function every output path (CLI, API, pages, search, exports,
notifications) calls instead of reading a version's document directly."""

from __future__ import annotations

import dataclasses
from typing import Any

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.service import CaseService, CaseView
from redaction.overrides import load_overrides
from redaction.render import render_document
from redaction.tiers import Audience, audience_for


def rendered_view(ctx: AppContext, actor: Actor, key: str, *, version: int | None = None,
                  published: bool = False) -> tuple[CaseView, Audience]:
    """The case as ``actor`` may see it (read access checked), redacted for the actor's audience."""
    view = CaseService(ctx).view(actor, key, version=version, published=published)
    audience = audience_for(ctx.policy, actor, classification=view.facts.get("classification"),
                            department=view.facts.get("department"), is_author=view.viewer_is_author)
    return render_view(ctx, view, audience), audience


def record_view(ctx: AppContext, actor: Actor, key: str, *, via: str, ip: str | None = None,
                details: dict[str, Any] | None = None) -> None:
    """One read of a case's content in the audit log (time, actor, address, path): pages, API and CLI alike."""
    with ctx.engine.begin() as conn:
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action="case.view",
                     subject_type="case", subject_id=key, ip=ip, details={"via": via} | (details or {}))


def read_case(ctx: AppContext, actor: Actor, key: str, *, via: str, ip: str | None = None,
              version: int | None = None, published: bool = False) -> tuple[CaseView, Audience]:
    """``rendered_view`` plus its audit event: what every path that shows one case to a person calls."""
    shown = rendered_view(ctx, actor, key, version=version, published=published)
    record_view(ctx, actor, key, via=via, ip=ip, details={"version": shown[0].version_no})
    return shown


def render_view(ctx: AppContext, view: CaseView, audience: Audience) -> CaseView:
    """An already loaded view re-rendered for an audience (with the version's overrides)."""
    with ctx.engine.connect() as conn:
        overrides = load_overrides(conn, view.case_id, view.version_no)
    document = render_document(ctx.policy, view.document, audience, overrides)
    facts = {**view.facts, "title": document.get("title")}
    return dataclasses.replace(view, document=document, facts=facts)

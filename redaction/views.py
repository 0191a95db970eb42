"""Case views at the viewer's tier: the function every output path (CLI, API, pages, search, exports,
notifications) calls instead of reading a version's document directly."""

from __future__ import annotations

import dataclasses

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


def render_view(ctx: AppContext, view: CaseView, audience: Audience) -> CaseView:
    """An already loaded view re-rendered for an audience (with the version's overrides)."""
    with ctx.engine.connect() as conn:
        overrides = load_overrides(conn, view.case_id, view.version_no)
    document = render_document(ctx.policy, view.document, audience, overrides)
    facts = {**view.facts, "title": document.get("title")}
    return dataclasses.replace(view, document=document, facts=facts)

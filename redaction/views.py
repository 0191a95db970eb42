"""Case views at the viewer's tier: the function every output path (CLI, API, pages, search, exports,
notifications) calls instead of reading a version's document directly. Renderings come from the version's
stored rendering for the viewer's display tier (``redaction.stored``): no read path runs the analyzer."""

from __future__ import annotations

import dataclasses

from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.service import CaseService, CaseView
from redaction.stored import rendered
from redaction.tiers import Audience, audience_for


def rendered_view(ctx: AppContext, actor: Actor, key: str, *, version: int | None = None,
                  published: bool = False) -> tuple[CaseView, Audience]:
    """The case as ``actor`` may see it (read access checked), redacted for the actor's audience."""
    view = CaseService(ctx).view(actor, key, version=version, published=published)
    audience = audience_for(ctx.policy, actor, classification=view.facts.get("classification"),
                            department=view.facts.get("department"), is_author=view.viewer_is_author)
    return render_view(ctx, view, audience), audience


def render_view(ctx: AppContext, view: CaseView, audience: Audience) -> CaseView:
    """An already loaded view rendered for an audience (the version's stored rendering for its tier)."""
    with ctx.engine.connect() as conn:
        document = rendered(conn, ctx.policy, view.case_id, view.version_no, view.document, audience,
                            classification=view.facts.get("classification") or "", now=ctx.clock.now())
    facts = {**view.facts, "title": document.get("title")}
    return dataclasses.replace(view, document=document, facts=facts)

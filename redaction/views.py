"""Case views at the viewer's tier: the function every output path (CLI, API, pages, search, exports,
notifications) calls instead of reading a version's document directly. Renderings come from the version's
stored rendering for the viewer's display tier (``redaction.stored``): no read path runs the analyzer."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from casebook.core.db import reads
from casebook.core.reasons import decode as decode_reason
from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.models import Case
from lifecycle.service import CaseService, CaseView
from redaction.render import render_text
from redaction.stored import rendered, stored_title
from redaction.tiers import Audience, audience_for


@reads
def rendered_view(ctx: AppContext, actor: Actor, key: str, *, version: int | None = None,
                  published: bool = False) -> tuple[CaseView, Audience]:
    """The case as ``actor`` may see it (read access checked), redacted for the actor's audience."""
    view = CaseService(ctx).view(actor, key, version=version, published=published)
    audience = audience_for(ctx.policy, actor, classification=view.facts.get("classification"),
                            department=view.facts.get("department"), is_author=view.viewer_is_author)
    return render_view(ctx, view, audience), audience


def record_view(ctx: AppContext, actor: Actor, key: str, *, via: str, ip: str | None = None,
                details: dict[str, Any] | None = None) -> None:
    """One read of a case's content in the access log (time, actor, address, version, path): pages, API and CLI
    alike."""
    ctx.access_log.add(at=ctx.clock.now(), actor=actor.username, action="view", case_key=key,
                       version=(details or {}).get("version"), ip=ip, via=via)
    if via == "cli":  # a command's process ends right after: its read is written now, not with a later batch
        ctx.access_log.flush()


def read_case(ctx: AppContext, actor: Actor, key: str, *, via: str, ip: str | None = None,
              version: int | None = None, published: bool = False) -> tuple[CaseView, Audience]:
    """``rendered_view`` plus its access-log entry: what every path that shows one case to a person calls."""
    shown = rendered_view(ctx, actor, key, version=version, published=published)
    record_view(ctx, actor, key, via=via, ip=ip, details={"version": shown[0].version_no})
    return shown


@reads
def shown_history(ctx: AppContext, actor: Actor, key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A case's versions and events as ``actor`` may see them: free text they carry (version notes, reasons,
    correction requests) rendered at the actor's tier."""
    service = CaseService(ctx)
    view = service.view(actor, key)
    audience = audience_for(ctx.policy, actor, classification=view.facts.get("classification"),
                            department=view.facts.get("department"), is_author=view.viewer_is_author)
    versions, events = service.history(actor, key)

    def shown(value: Any) -> Any:
        if isinstance(value, str):   # a coded reason (written by the system, no case text) stays decodable
            return value if decode_reason(value) is not None else render_text(ctx.policy, value, audience)
        if isinstance(value, list):
            return [shown(v) for v in value]
        if isinstance(value, dict):
            return {k: shown(v) for k, v in value.items()}
        return value

    return [{"number": v.number, "by": v.created_by, "at": v.created_at, "note": shown(v.note)} for v in versions], \
        [{"id": e.id, "shard": e.shard, "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "before": e.before,
                       "after": e.after, "details": shown(e.details)} for e in events]


@reads
def listed_cases(ctx: AppContext, actor: Actor, *, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """The cases ``actor`` may read (newest first), each title at the actor's tier: what a case list shows."""
    cases = Case.__table__
    stmt = select(cases).order_by(cases.c.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(cases.c.state == state)
    service = CaseService(ctx)
    out = []
    with ctx.engine.connect() as conn:
        for c in conn.execute(stmt):
            if not service.may_view(conn, c, actor):
                continue
            audience = audience_for(ctx.policy, actor, classification=c.classification, department=c.department,
                                    is_author=actor.user_id is not None and actor.user_id in (c.owner_id, c.author_id))
            working = c.published_version_no is None or service.reads_working_version(conn, c, actor)
            number = c.current_version_no if working else c.published_version_no  # the version this reader reads
            title = stored_title(conn, ctx.policy, c.id, number, c.title, audience)
            out.append({"key": c.key, "title": title, "state": c.state,
                        "library": c.library, "department": c.department, "classification": c.classification})
    return out


def render_view(ctx: AppContext, view: CaseView, audience: Audience) -> CaseView:
    """An already loaded view rendered for an audience (the version's stored rendering for its tier)."""
    with ctx.engine.connect() as conn:
        document = rendered(conn, ctx.policy, view.case_id, view.version_no, view.document, audience,
                            classification=view.facts.get("classification") or "", now=ctx.clock.now())
    facts = {**view.facts, "title": document.get("title")}
    return dataclasses.replace(view, document=document, facts=facts)

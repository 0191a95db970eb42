"""What a partner key reads: published cases of the lowest classification, their published version only,
rendered at the partner role's (lowest) tier. Every call is audited with the partner's name and address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from access.partners import Partner
from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.errors import InvalidInput, NotFound, Problem
from lifecycle import states as S
from lifecycle.models import Case
from redaction.views import rendered_view

CASES = Case.__table__
#: States whose published version a partner may read (never withdrawn, retired, archived or under evaluation).
OPEN_STATES = (S.PUBLISHED, S.UPDATE_DUE, S.UPDATING)


def _open_to_partners(ctx: AppContext) -> Any:
    return (CASES.c.classification == ctx.policy.doc.classifications[0], CASES.c.state.in_(OPEN_STATES),
            CASES.c.published_version_no.is_not(None))


def _record(ctx: AppContext, partner: Partner, action: str, subject: str, ip: str | None,
            details: dict[str, Any] | None = None) -> None:
    with ctx.engine.begin() as conn:
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=partner.actor.username, action=action,
                     subject_type="partner", subject_id=subject, ip=ip, details=details)


def list_cases(ctx: AppContext, partner: Partner, *, page: int = 1, size: int = 20, ip: str | None = None
               ) -> dict[str, Any]:
    """One page of open cases, newest published first: ``{"total", "page", "size", "items"}``."""
    size_max = ctx.policy.doc.partners.page_size_max
    problems = []
    if page < 1:
        problems.append(Problem.of("page", "err_at_least", min=1))
    if not 1 <= size <= size_max:
        problems.append(Problem.of("size", "err_between_policy", low=1, high=size_max, setting="partners.page_size_max"))
    if problems:
        raise InvalidInput(problems, "query")
    where = _open_to_partners(ctx)
    with ctx.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(CASES).where(*where)).scalar_one())
        keys = list(conn.execute(select(CASES.c.key).where(*where)
                                 .order_by(CASES.c.published_at.desc(), CASES.c.id.desc())
                                 .limit(size).offset((page - 1) * size)).scalars())
    items = []
    for key in keys:
        view, _ = rendered_view(ctx, partner.actor, key, published=True)
        items.append({"key": key, "title": view.facts.get("title"), "library": view.facts.get("library"),
                      "published_at": view.facts.get("published_at")})
    _record(ctx, partner, "partner.list", partner.name, ip, {"page": page, "size": size, "returned": len(items)})
    return {"total": total, "page": page, "size": size, "items": items}


def get_case(ctx: AppContext, partner: Partner, key: str, *, ip: str | None = None) -> dict[str, Any]:
    """One open case's published version at the partner tier; any other case is simply not found."""
    with ctx.engine.connect() as conn:
        found = conn.execute(select(CASES.c.id).where(CASES.c.key == key, *_open_to_partners(ctx))).first()
    if found is None:
        raise NotFound.of("err_no_case", case=key)
    view, _ = rendered_view(ctx, partner.actor, key, published=True)
    _record(ctx, partner, "partner.read", partner.name, ip, {"case": key, "version": view.version_no})
    return {"key": key, "version": view.version_no, "library": view.facts.get("library"),
            "published_at": view.facts.get("published_at"), "document": view.document}

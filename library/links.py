"""Links between cases: ``related``, ``follow_up``, ``supersedes``, ``contradicts``.

A link is created (or removed) by a role policy ``links.create_roles`` names, between two cases the actor may
read, audited in the same transaction on the source case. Each case shows its links, those pointing at it in
the inverse wording ("superseded by", "follow-up of"), and only those whose other case the reader may read: a
link never reveals a case the reader may not see. A case superseded by a live case is proposed for retirement by
the next quarterly review (``superseded``, read by ``lifecycle.health``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import insert_if_absent, reads
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor
from library.learning_models import CaseLink
from library.titles import reader_audience, reader_title
from lifecycle import states as S
from lifecycle.models import Case
from lifecycle.service import CaseService
from redaction.render import render_text

LINKS = CaseLink.__table__
CASES = Case.__table__
#: How a link reads on each of its two cases: (on the source, on the target). Catalog keys ``link_<wording>``.
WORDING: dict[str, tuple[str, str]] = {
    "related": ("related", "related"),
    "follow_up": ("follow_up", "follow_up_of"),
    "supersedes": ("supersedes", "superseded_by"),
    "contradicts": ("contradicts", "contradicts"),
}
NOTE_MAX = 500


@dataclass(frozen=True)
class ShownLink:
    """One link as the reader of ``case`` sees it: the wording from this case's side and the other case."""

    id: int
    kind: str
    wording: str
    outgoing: bool
    other_key: str
    other_title: str
    other_state: str
    note: str | None
    created_by: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "wording": self.wording, "direction": "out" if self.outgoing
                else "in", "case": self.other_key, "title": self.other_title, "state": self.other_state,
                "note": self.note, "created_by": self.created_by}


def wording(kind: str, outgoing: bool) -> str:
    """The wording of a link seen from its source (``outgoing``) or its target case (pure)."""
    return WORDING[kind][0 if outgoing else 1]


def may_link(ctx: AppContext, actor: Actor) -> bool:
    return actor.is_system or actor.role in ctx.policy.doc.links.create_roles


def _case(conn: Connection, key: str, field: str) -> Any:
    row = conn.execute(select(CASES).where(CASES.c.key == key)).one_or_none()
    if row is None:
        raise InvalidInput([Problem.of(field, "err_no_case", case=key)], "link")
    return row


def _checked(ctx: AppContext, conn: Connection, actor: Actor, source: str, kind: str, target: str) -> tuple[Any, Any]:
    """The two case rows, after every rule: role, kind, distinct cases, both readable by the actor."""
    if not may_link(ctx, actor):
        raise Forbidden.of("err_may_not_link", role=actor.role)
    kinds = ctx.policy.doc.links.kinds
    problems = [] if kind in kinds else [Problem.of("kind", "err_one_of_got", allowed=list(kinds), value=kind)]
    if source == target:
        problems.append(Problem.of("target", "err_link_to_itself"))
    if problems:
        raise InvalidInput(problems, "link")
    a, b = _case(conn, source, "case"), _case(conn, target, "target")
    service = CaseService(ctx)
    for row, field in ((a, "case"), (b, "target")):
        if not service.may_view(conn, row, actor):
            # the same answer as a missing case: a link form must not confirm what exists beyond the actor's reach
            raise InvalidInput([Problem.of(field, "err_no_case", case=row.key)], "link")
    return a, b


def link_cases(ctx: AppContext, actor: Actor, source: str, kind: str, target: str, *, note: str | None = None,
               ip: str | None = None) -> bool:
    """Link ``source`` <kind> ``target``; True when the link is new (linking again changes nothing)."""
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput([Problem.of("note", "err_at_most_chars", max=NOTE_MAX)], "link")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        a, b = _checked(ctx, conn, actor, source, kind, target)
        if kind in ("related", "contradicts"):   # symmetric kinds: one link per pair, whichever way it was made
            existing = conn.execute(select(LINKS.c.id).where(
                LINKS.c.kind == kind, LINKS.c.source_id == b.id, LINKS.c.target_id == a.id)).first()
            if existing is not None:
                return False
        new = insert_if_absent(conn, LINKS, {"source_id": a.id, "target_id": b.id, "kind": kind, "note": note,
                                             "created_by": actor.username, "created_at": now},
                               ["source_id", "target_id", "kind"])
        if new:
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="case.link", subject_type="case",
                         subject_id=a.key, ip=ip, before=None, after={"link": kind, "target": b.key},
                         details={"note": note} if note else None)
    return new


def unlink_cases(ctx: AppContext, actor: Actor, source: str, kind: str, target: str, *, reason: str,
                 ip: str | None = None) -> bool:
    """Remove a link (with a reason, audited); True when there was one."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput([Problem.of("reason", "err_unlink_reason_required")], "unlink")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        a, b = _checked(ctx, conn, actor, source, kind, target)
        pairs = [(a.id, b.id)] + ([(b.id, a.id)] if kind in ("related", "contradicts") else [])
        gone = 0
        for s, t in pairs:
            gone += conn.execute(LINKS.delete().where(LINKS.c.source_id == s, LINKS.c.target_id == t,
                                                      LINKS.c.kind == kind)).rowcount
        if gone:
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="case.unlink", subject_type="case",
                         subject_id=a.key, ip=ip, before={"link": kind, "target": b.key}, after=None,
                         details={"reason": reason})
    return bool(gone)


@reads
def visible_links(ctx: AppContext, actor: Actor, key: str) -> list[ShownLink]:
    """The links of case ``key`` the actor may see (the actor must be able to read ``key`` itself), each other
    case's title at the actor's tier; links to cases the actor may not read are left out entirely."""
    service = CaseService(ctx)
    with ctx.engine.connect() as conn:
        case = conn.execute(select(CASES).where(CASES.c.key == key)).one_or_none()
        if case is None or not service.may_view(conn, case, actor):
            raise NotFound.of("err_no_readable_case", case=key)
        rows = conn.execute(select(LINKS).where(or_(LINKS.c.source_id == case.id, LINKS.c.target_id == case.id))
                            .order_by(LINKS.c.id)).all()
        ids = {r.target_id if r.source_id == case.id else r.source_id for r in rows}
        others = {c.id: c for c in conn.execute(select(CASES).where(CASES.c.id.in_(ids)))} if ids else {}
        out = []
        for r in rows:
            outgoing = r.source_id == case.id
            other = others.get(r.target_id if outgoing else r.source_id)
            if other is None or not service.may_view(conn, other, actor):
                continue
            audience = reader_audience(ctx, actor, other)
            title = reader_title(ctx, conn, service, actor, other, audience)
            note = render_text(ctx.policy, r.note, audience) if r.note else None   # free text: at the tier too
            out.append(ShownLink(r.id, r.kind, wording(r.kind, outgoing), outgoing, other.key, title, other.state,
                                 note, r.created_by))
    return out


def links_box(ctx: AppContext, actor: Actor, key: str) -> dict[str, Any]:
    """What the links box of a case page (``_case_links.html``) shows: the links the reader may see, the kinds in
    use, whether the reader may add or remove links, and the case."""
    return {"links": visible_links(ctx, actor, key), "link_kinds": ctx.policy.doc.links.kinds,
            "may_link": may_link(ctx, actor), "links_case": key}


def superseded(conn: Connection) -> dict[int, str]:
    """Case id -> the key of a live case that supersedes it (what the quarterly review proposes to retire)."""
    newer = CASES.alias("newer")
    rows = conn.execute(select(LINKS.c.target_id, newer.c.key)
                        .join(newer, newer.c.id == LINKS.c.source_id)
                        .where(LINKS.c.kind == "supersedes", newer.c.state.in_([S.PUBLISHED, S.UPDATE_DUE]))
                        .order_by(LINKS.c.id)).all()
    out: dict[int, str] = {}
    for target_id, key in rows:
        out.setdefault(target_id, key)
    return out

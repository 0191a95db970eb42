"""Level-3 redaction sign-off: the committee member sees the findings and every tier's rendering, adds or
removes findings (stored as overrides that later renderings honour), and approval records the sign-off."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor
from lifecycle.document import text_fields
from lifecycle.models import Case, CaseVersion
from policies.schema import ENTITY_NAMES
from redaction.models import ADD, REMOVE, RedactionOverride
from redaction.overrides import load_overrides
from redaction.render import apply_overrides, document_findings, render_document
from redaction.stored import case_pseudonyms, earlier_fields, refresh, stored_findings
from redaction.tiers import Audience
from review.chain import level_of
from review.models import CLAIMED, ReviewTask

TASKS = ReviewTask.__table__
CASES = Case.__table__
VERSIONS = CaseVersion.__table__


def _signoff_context(conn: Connection, ctx: AppContext, actor: Actor, key: str) -> tuple[Any, Any, dict[str, Any]]:
    """The case, the actor's claimed task on it at a sign-off level, and the current document."""
    case = conn.execute(select(CASES).where(CASES.c.key == key)).one_or_none()
    if case is None:
        raise NotFound.of("err_no_case", case=key)
    task = conn.execute(select(TASKS).where(TASKS.c.case_id == case.id, TASKS.c.status == CLAIMED,
                                            TASKS.c.claimed_by == actor.username)).first()
    if task is None or not level_of(ctx.policy, case, task.level).redaction_signoff:
        raise Forbidden.of("err_signoff_needs_task", case=key)
    document = conn.execute(select(VERSIONS.c.document).where(
        VERSIONS.c.case_id == case.id, VERSIONS.c.number == case.current_version_no)).scalar_one()
    return case, task, document


def audiences(ctx: AppContext, classification: str) -> dict[str, Audience]:
    """Every tier the policy distinguishes for a case of this classification, by name."""
    out: dict[str, Audience] = {}
    for clearance in ctx.policy.doc.clearances:
        out[clearance] = Audience(clearance, classification)
        own = Audience(clearance, classification, own_department=True)
        out[f"{clearance} (own department)"] = own
    return out


def sheet(ctx: AppContext, actor: Actor, key: str) -> dict[str, Any]:
    """Findings per field (detected, with overrides applied) and the case rendered at every tier."""
    with ctx.engine.connect() as conn:
        case, task, document = _signoff_context(conn, ctx, actor, key)
        overrides = load_overrides(conn, case.id, case.current_version_no)
        detected = stored_findings(conn, case.id, case.current_version_no, document)
        earlier = earlier_fields(conn, ctx.policy, case.id, case.current_version_no)
    fields = document_findings(ctx.policy, document, overrides, detected)
    mapping = case_pseudonyms(document, [*earlier, fields])  # the masks the stored renderings use
    findings = [{"field": path, **f.as_json()} for path, _text, found in fields for f in found]
    renderings = {name: render_document(ctx.policy, document, audience, fields=fields, pseudonyms=mapping)
                  for name, audience in audiences(ctx, case.classification).items()}
    return {"key": key, "version": case.current_version_no, "level": task.level, "findings": findings,
            "overrides": [o.__dict__ for o in overrides], "renderings": renderings}


def override(ctx: AppContext, actor: Actor, key: str, *, action: str, field: str, start: int, end: int,
             entity_type: str | None = None, ip: str | None = None) -> dict[str, Any]:
    """Add a missed finding or remove a false one in the current version; audited in the same transaction."""
    problems: list[Problem] = []
    if action not in (ADD, REMOVE):
        problems.append(Problem.of("action", "err_one_of", allowed=["add", "remove"]))
    if action == ADD and entity_type not in ENTITY_NAMES:
        problems.append(Problem.of("entity_type", "err_one_of", allowed=list(ENTITY_NAMES)))
    if problems:
        raise InvalidInput(problems, "override")
    with ctx.engine.begin() as conn:
        case, _task, document = _signoff_context(conn, ctx, actor, key)
        texts = dict(text_fields(document))
        if field not in texts:
            raise InvalidInput([Problem.of("field", "err_text_field_of", number=case.current_version_no,
                                           fields=list(texts))], "override")
        text = texts[field]
        if not (0 <= start < end <= len(text)):
            raise InvalidInput([Problem.of("start/end", "err_span_bounds", max=len(text))], "override")
        span = text[start:end]
        if action == REMOVE:
            mine = [o for o in load_overrides(conn, case.id, case.current_version_no) if o.field == field]
            detected = stored_findings(conn, case.id, case.current_version_no, document)
            current = apply_overrides(text, (detected or {}).get(field, []), mine)
            hit = next((f for f in current if f.start < end and start < f.end), None)
            if hit is None:
                raise InvalidInput([Problem.of("start/end", "err_no_finding_overlaps")], "override")
            start, end, span, entity_type = hit.start, hit.end, hit.text, hit.entity_type
        row = {"case_id": case.id, "version_no": case.current_version_no, "field": field, "action": action,
               "entity_type": entity_type, "start": start, "end": end, "text": span, "created_by": actor.username,
               "created_at": ctx.clock.now(), "policy_version": ctx.policy.version_tag}
        conn.execute(RedactionOverride.__table__.insert(), row)
        audit.record(conn, ctx.audit, at=row["created_at"], actor=actor.username, action=f"redaction.{action}",
                     subject_type="case", subject_id=key, ip=ip,
                     details={"version": case.current_version_no, "field": field, "entity_type": entity_type,
                              "start": start, "end": end})
        # The stored renderings of the version follow the override (from its stored findings, no new scan).
        refresh(conn, ctx.policy, case.id, case.current_version_no, document, case.classification,
                now=row["created_at"])
    return {k: v for k, v in row.items() if k not in ("case_id", "created_at")}


def signoff_record(conn: Connection, ctx: AppContext, case_id: int, version_no: int) -> dict[str, Any]:
    """What an approval at a sign-off level records: the version, its findings and its overrides."""
    document = conn.execute(select(VERSIONS.c.document).where(
        VERSIONS.c.case_id == case_id, VERSIONS.c.number == version_no)).scalar_one()
    overrides = load_overrides(conn, case_id, version_no)
    detected = stored_findings(conn, case_id, version_no, document)
    count = sum(len(found) for _path, _text, found in document_findings(ctx.policy, document, overrides, detected))
    return {"version": version_no, "findings": count, "overrides": len(overrides),
            "policy_version": ctx.policy.version_tag}

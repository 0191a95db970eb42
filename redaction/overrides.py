"""Storing and loading reviewer overrides (see ``RedactionOverride`` for how they carry across versions)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from redaction.models import ADD, RedactionOverride
from redaction.render import Override

TABLE = RedactionOverride.__table__


def load_overrides(conn: Connection, case_id: int, version_no: int) -> list[Override]:
    """Overrides that apply to one version: its own, plus additions made on earlier versions."""
    rows = conn.execute(select(TABLE).where(
        TABLE.c.case_id == case_id,
        or_(TABLE.c.version_no == version_no, (TABLE.c.version_no < version_no) & (TABLE.c.action == ADD)))
        .order_by(TABLE.c.id)).all()
    return [Override(r.field, r.action, r.entity_type, r.start, r.end, r.text) for r in rows]

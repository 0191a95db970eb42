"""Storing and loading reviewer overrides (see ``RedactionOverride`` for how they carry across versions)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from redaction.models import ADD, RedactionOverride
from redaction.render import Override

TABLE = RedactionOverride.__table__


def load_overrides(conn: Connection, case_id: int, version_no: int) -> list[Override]:
    """Overrides that apply to one version: its own, plus additions made on earlier versions."""
    return load_overrides_many(conn, [(case_id, version_no)])[(case_id, version_no)]


def load_overrides_many(conn: Connection, versions: list[tuple[int, int]]) -> dict[tuple[int, int], list[Override]]:
    """The overrides that apply to each of many (case id, version) pairs, in one query (jobs writing notices for a
    batch): a version's own, plus additions made on its case's earlier versions."""
    if not versions:
        return {}
    rows = conn.execute(select(TABLE).where(TABLE.c.case_id.in_({c for c, _ in versions})).order_by(TABLE.c.id)).all()
    return {(case_id, number): [Override(r.field, r.action, r.entity_type, r.start, r.end, r.text) for r in rows
                                if r.case_id == case_id and (r.version_no == number or
                                                             (r.version_no < number and r.action == ADD))]
            for case_id, number in versions}

"""Replay each case's audit events and compare the case row with what they say.

The row is changed only through ``lifecycle.service``, which records every change (create, edit, each transition)
as an audit event carrying the lifecycle facts before and after it, at the very instant it wrote into the row. So
the events of a case determine its state, review level, current version, the published version and the key dates
(created, state changed, submitted, published, content updated, and the expiry the policy derives from
publication). A row edited in the database, or a case whose events were removed, no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.engine import Connection

from casebook.core.audit import AuditEvent
from casebook.core.clock import add_months
from lifecycle import states as S
from lifecycle.models import Case, CaseVersion
from policies.loader import Policy

CASES, VERSIONS, EVENTS = Case.__table__, CaseVersion.__table__, AuditEvent.__table__
ROW_COLUMNS = ("state", "review_level", "current_version_no", "published_version_no", "created_at",
               "state_changed_at", "submitted_at", "published_at", "content_updated_at", "expires_at")


@dataclass
class Replay:
    """How many cases were replayed and the first problems found (at most ``limit``)."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    limit: int = 20

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < self.limit:
            self.problems.append(problem)


def expected_row(policy: Policy, library: str, events: list[Any]) -> dict[str, Any] | None:
    """The row facts a case's events (in the order written) say it has; None when no event created it."""
    changes = [e for e in events if isinstance(e.after, dict) and "state" in e.after]
    if not changes or changes[0].action != "case.create":
        return None
    first, last = changes[0], changes[-1]
    out: dict[str, Any] = {"state": last.after["state"], "review_level": last.after.get("review_level"),
                           "current_version_no": last.after.get("version"), "created_at": first.at,
                           "submitted_at": None, "published_at": None, "published_version_no": None,
                           "expires_at": None, "content_updated_at": first.at, "state_changed_at": first.at}
    for e in changes[1:]:
        if e.action == "case.edit":
            out["content_updated_at"] = e.at
            continue
        out["state_changed_at"] = e.at
        if e.after["state"] == S.SUBMITTED:
            out["submitted_at"] = e.at
        if e.after["state"] == S.PUBLISHED:
            out |= {"published_at": e.at, "content_updated_at": e.at, "published_version_no": e.after.get("version")}
            library_policy = policy.doc.libraries.get(library)
            # The validity in force when it was published is known only if the policy is the same one now.
            out["expires_at"] = (add_months(e.at, library_policy.validity_months)
                                 if library_policy is not None and e.policy_version == policy.version_tag else ...)
    return out


def _cases(conn: Connection, batch: int) -> Iterator[list[Any]]:
    columns = [CASES.c.id, CASES.c.key, CASES.c.library, CASES.c.title, *(CASES.c[n] for n in ROW_COLUMNS),
               VERSIONS.c.document]
    joined = CASES.outerjoin(VERSIONS, (VERSIONS.c.case_id == CASES.c.id)
                             & (VERSIONS.c.number == CASES.c.current_version_no))
    after = 0
    while True:
        rows = conn.execute(select(*columns).select_from(joined).where(CASES.c.id > after)
                            .order_by(CASES.c.id).limit(batch)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def replay(conn: Connection, policy: Policy, *, batch: int = 500, limit: int = 20) -> Replay:
    """Compare every case row (and its title with its current version's) with its replayed events."""
    result = Replay(limit=limit)
    ev = EVENTS.c
    for rows in _cases(conn, batch):
        keys = [r.key for r in rows if r.key]
        events: dict[str, list[Any]] = {}
        for e in conn.execute(select(ev.subject_id, ev.action, ev.at, ev.after, ev.policy_version)
                              .where(ev.subject_type == "case", ev.subject_id.in_(keys)).order_by(ev.id)):
            events.setdefault(e.subject_id, []).append(e)
        for row in rows:
            result.checked += 1
            expected = expected_row(policy, row.library, events.get(row.key, []))
            if expected is None:
                result.add(f"{row.key}: no audit event created this case (row inserted or its events removed)")
                continue
            for name, value in expected.items():
                if value is not ... and getattr(row, name) != value:
                    result.add(f"{row.key}: {name} is {getattr(row, name)!r} but its events say {value!r}")
            if row.document is None:
                result.add(f"{row.key}: current version {row.current_version_no} is missing")
            elif row.document.get("title") and row.document["title"] != row.title:
                result.add(f"{row.key}: title differs from its current version's")
    orphans = conn.execute(select(ev.subject_id).where(
        ev.subject_type == "case", ev.action == "case.create",
        ~exists().where(CASES.c.key == ev.subject_id)).limit(limit)).scalars().all()
    for key in orphans:
        result.add(f"{key}: created in the audit log but the case row is gone")
    return result

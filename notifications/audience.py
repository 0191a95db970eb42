"""Who receives a notification: users by role (scoped to a department where the role is), and case facts
carried in payloads so each recipient's copy is redacted at their own tier."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from access.rules import can_view
from casebook.core.crypto import seal_for
from casebook.core.users import Actor, User
from policies.loader import Policy

USERS = User.__table__


def users_with_role(conn: Connection, policy: Policy, role: str, department: str | None = None) -> list[str]:
    stmt = select(USERS.c.username).where(USERS.c.role == role, USERS.c.active.is_(True))
    if department is not None and policy.role(role).department_scoped:
        stmt = stmt.where(USERS.c.department == department)
    return list(conn.execute(stmt.order_by(USERS.c.username)).scalars())


class RoleHolders:
    """``users_with_role`` remembered for one batch (every case of a department asks the same question)."""

    def __init__(self, conn: Connection, policy: Policy) -> None:
        self.conn, self.policy = conn, policy
        self._seen: dict[tuple[str, str | None], list[str]] = {}

    def __call__(self, role: str, department: str | None = None) -> list[str]:
        key = (role, department)
        if key not in self._seen:
            self._seen[key] = users_with_role(self.conn, self.policy, role, department)
        return self._seen[key]


def username_of(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(USERS.c.username).where(USERS.c.id == user_id)).scalar_one_or_none()


def case_ref(case: Any, conn: Connection | None = None, *, working: bool = False) -> dict[str, Any]:
    """What a template may show of a case; ``title`` is redacted per recipient before rendering.

    Given a connection, the title is the published version's (the working version's with ``working``, or when
    none is published yet) and carries that version's stored title per display tier (``titles``: the case's
    pseudonyms and overrides applied, as on its page) and its stored title findings (for a tier rendered since),
    so each recipient's copy comes from them without running the analyzer."""
    if conn is None:
        return _facts(case)
    return case_refs([case], conn, working=working)[0]


def case_refs(cases: list[Any], conn: Connection, *, working: bool = False) -> list[dict[str, Any]]:
    """``case_ref`` for many cases (a job's batch) with their stored titles read in three queries."""
    from redaction.stored import titles_many

    numbers = [case.current_version_no if working or case.published_version_no is None else case.published_version_no
               for case in cases]
    stored = titles_many(conn, [(case.id, number) for case, number in zip(cases, numbers)])
    refs = []
    for case, number in zip(cases, numbers):
        ref = _facts(case)
        found = stored.get((case.id, number))
        if found is not None:
            ref["title"], ref["title_findings"], titles = found
            ref["titles"] = seal_for(conn, case.classification, titles)   # the payload is encrypted at rest
        ref["title"] = seal_for(conn, case.classification, ref["title"])
        refs.append(ref)
    return refs


def _facts(case: Any) -> dict[str, Any]:
    ref = {"key": case.key, "title": case.title, "classification": case.classification,
           "department": case.department, "author_id": case.author_id, "owner_id": case.owner_id}
    if hasattr(case, "state"):  # a case row: the read rule's state facts travel with it (``may_read``)
        ref |= {"state": case.state, "published": getattr(case, "published_version_no", None) is not None,
                "withdrawn": getattr(case, "withdrawn_at", None) is not None}
    return ref


def may_read(policy: Policy, actor: Actor, ref: dict[str, Any]) -> bool:
    """Whether a recipient may see a case reference at all — the same rule as every other read."""
    return can_view(policy, actor, classification=ref["classification"], department=ref["department"],
                    is_owner=actor.user_id in (ref.get("author_id"), ref.get("owner_id")), state=ref["state"],
                    published=ref["published"], withdrawn=ref["withdrawn"])

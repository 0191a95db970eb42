"""Who may see or act on a case: clearance vs classification, department scope, permissions from policy."""

from __future__ import annotations

from casebook.core.errors import Forbidden
from casebook.core.users import Actor
from policies.loader import Policy


def can_view(policy: Policy, actor: Actor, *, classification: str, department: str, is_owner: bool) -> bool:
    """Read access (the page/API issue adds the department-head approval for internal cases)."""
    if actor.is_system or is_owner:
        return True
    if not policy.may(actor.role, "case.read", own=False):
        return False
    if policy.clearance_rank(actor.clearance) < policy.classification_rank(classification):
        return False
    role = policy.role(actor.role)
    if classification != policy.doc.classifications[0] and role.department_scoped and actor.department != department:
        return False
    return True


def can_fire(policy: Policy, actor: Actor, event: str, *, department: str, is_owner: bool) -> tuple[bool, str]:
    """Whether the actor's role holds the event's permission (outright, or ':own' on own cases) in scope."""
    if actor.is_system:
        return True, ""
    permission = policy.event_permission(event)
    if not policy.may(actor.role, permission, own=is_owner):
        return False, f"role '{actor.role}' lacks permission '{permission}'"
    role = policy.role(actor.role)
    if not is_owner and role.department_scoped and actor.department != department and \
            permission not in ("case.review",):
        return False, f"role '{actor.role}' is limited to department '{actor.department}'"
    return True, ""


def require(policy: Policy, actor: Actor, permission: str) -> None:
    """Refuse (Forbidden, naming the permission) unless the actor's role holds ``permission`` outright."""
    if not actor.is_system and not policy.may(actor.role, permission, own=False):
        raise Forbidden(f"role '{actor.role}' lacks permission '{permission}'")

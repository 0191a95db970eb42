"""Who may see or act on a case: clearance vs classification, department scope, permissions from policy."""

from __future__ import annotations

from casebook.core.errors import Forbidden, Reason
from casebook.core.users import Actor
from lifecycle import states as S
from policies.loader import Policy


def reads_working_version(policy: Policy, actor: Actor, *, is_owner: bool, reviews: bool = False) -> bool:
    """Whether the actor reads content before (or beside) its publication: owners and authors, the reviewers of
    its open task (``reviews``), the system and the roles of policy ``security.working_version_roles``. Everyone
    else reads the published version only (and nothing of a case never published)."""
    return actor.is_system or is_owner or reviews or actor.role in policy.doc.security.working_version_roles


def state_allows(policy: Policy, actor: Actor, *, state: str, is_owner: bool, published: bool,
                 withdrawn: bool = False, reviews: bool = False) -> bool:
    """The state part of the read rule. Withdrawn content (withdrawn now, or archived after a withdrawal) is
    read by the roles of policy ``security.withdrawn_readers`` only, its author included; a draft by its owner
    and author only; content never published by the working-version readers (above); the rest by any reader."""
    if actor.is_system:
        return True
    if state == S.WITHDRAWN or withdrawn:
        return actor.role in policy.doc.security.withdrawn_readers
    if state == S.DRAFT:
        return is_owner
    if not published:
        return reads_working_version(policy, actor, is_owner=is_owner, reviews=reviews)
    return True


def can_view(policy: Policy, actor: Actor, *, classification: str, department: str, is_owner: bool, state: str,
             published: bool, withdrawn: bool = False, reviews: bool = False) -> bool:
    """Read access, the one rule every read path asks: state (above), then clearance against classification
    and department scope (owners and authors read their own cases whatever their clearance)."""
    if actor.is_system:
        return True
    if not state_allows(policy, actor, state=state, is_owner=is_owner, published=published, withdrawn=withdrawn,
                        reviews=reviews):
        return False
    if is_owner:
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
        return False, Reason("err_lacks_permission", role=actor.role, permission=permission)
    role = policy.role(actor.role)
    if not is_owner and role.department_scoped and actor.department != department and \
            permission not in ("case.review",):
        return False, Reason("err_department_limited", role=actor.role, department=actor.department)
    return True, ""


def require(policy: Policy, actor: Actor, permission: str) -> None:
    """Refuse (Forbidden, naming the permission) unless the actor's role holds ``permission`` outright."""
    if not actor.is_system and not policy.may(actor.role, permission, own=False):
        raise Forbidden.of("err_lacks_permission", role=actor.role, permission=permission)

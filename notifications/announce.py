"""Announcements to role chat groups: ``CASEBOOK_CHAT_GROUPS`` maps a role to an apprise URL, and policy
``notifications.announcements`` says which announcements (a published batch, a takedown) each role's group gets.

An announcement is an outbox row like any other, written in the transaction of what it announces, whose
recipient is ``group:<role>`` (a name no user can have: usernames never hold a colon). Delivery posts it to the
group's URL, rendered in the policy's ``announcement_locale`` at the role's own tier: a member of the role without
department or authorship, so a department-scoped role's group sees no title outside the lowest classification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from casebook.core.settings import Settings
from casebook.core.users import Actor
from notifications.outbox import Notice, enqueue_many
from notifications.render import Recipient
from policies.loader import Policy

GROUP_PREFIX = "group:"


def group_recipient(role: str) -> str:
    return f"{GROUP_PREFIX}{role}"


def is_group(recipient: str) -> bool:
    return recipient.startswith(GROUP_PREFIX)


def group_roles(policy: Policy, settings: Settings, kind: str) -> list[str]:
    """The roles whose chat group posts ``kind``: named by policy and with a group configured."""
    return [role for role in policy.doc.notifications.announcements.get(kind, []) if role in settings.chat_groups]


def announce(conn: Connection, policy: Policy, settings: Settings, *, kind: str, subject_id: str, period: str,
             payload: dict[str, Any], now: datetime) -> set[str]:
    """Queue ``kind`` for every role group that policy names for it (idempotent by key); the new keys."""
    return enqueue_many(conn, [Notice(kind, subject_id, group_recipient(role), period, payload, digestible=False)
                               for role in group_roles(policy, settings, kind)], now)


def group_as_recipient(policy: Policy, settings: Settings, recipient: str) -> Recipient | None:
    """The delivery view of a role group: its URL, the announcement locale, the role's tier; None if the group
    is not configured (any more) or the role is unknown."""
    role = recipient.removeprefix(GROUP_PREFIX)
    url = settings.chat_groups.get(role)
    if url is None or role not in policy.doc.roles:
        return None
    actor = Actor(recipient, role, "", policy.role(role).clearance, None)
    return Recipient(actor, None, policy.doc.notifications.announcement_locale, url, "chat")

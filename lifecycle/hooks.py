"""Transition listeners: other packages react to state changes inside the same transaction.

The lifecycle does not import its listeners: packages install them into the context's registry
(``casebook.core.hooks.Hooks``) through an explicit ``install(hooks)``, called by ``casebook.assembly``, so the
dependency points one way (review → lifecycle) and every reaction commits or rolls back with the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from casebook.core.users import Actor
    from lifecycle.service import CaseService


@dataclass(frozen=True)
class TransitionEvent:
    """One applied transition, as listeners see it (``case`` is the row before the change)."""

    conn: Connection
    service: "CaseService"
    case: Any
    event: str
    source: str
    dest: str
    actor: "Actor"
    now: datetime
    reason: str | None
    details: dict[str, Any]
    #: Shared by this transition's guards and listeners (e.g. results computed once, stored once).
    scratch: dict[str, Any]


Listener = Callable[[TransitionEvent], None]
#: Guards contributed by other packages: (conn, service, case row, document, scratch) -> problems (empty = pass).
Guard = Callable[[Connection, "CaseService", Any, dict[str, Any], dict[str, Any]], list[str]]

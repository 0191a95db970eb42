"""What notifications add to every transition: takedown notices written in the withdrawal's transaction."""

from __future__ import annotations

from typing import Any

from casebook.core.hooks import Hooks

NAME = "notifications"


def on_transition(event: Any) -> None:
    """``notifications.takedown``'s listener, imported on the first transition: a read-only command (``case
    list``) never loads the outbox and its templates."""
    from notifications import takedown

    takedown.on_transition(event)


def install(registry: Hooks) -> None:
    registry.on_transition(on_transition)
    registry.installed(NAME)

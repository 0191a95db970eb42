"""What notifications add to every transition: takedown notices written in the withdrawal's transaction."""

from __future__ import annotations

from casebook.core.hooks import Hooks
from notifications import takedown

NAME = "notifications"


def install(registry: Hooks) -> None:
    registry.on_transition(takedown.on_transition)
    registry.installed(NAME)

"""What review adds to every transition: the pre-check guard and results, and tasks that follow the case."""

from __future__ import annotations

from casebook.core.hooks import Hooks
from review import prechecks, tasks

NAME = "review"


def install(registry: Hooks) -> None:
    prechecks.install(registry)
    tasks.install(registry)
    registry.installed(NAME)

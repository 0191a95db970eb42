"""What review adds to every transition: the pre-check guard and results, tasks that follow the case, and
who may decide a review level (candidate group, separation of duties)."""

from __future__ import annotations

from casebook.core.hooks import Hooks
from review import duties, prechecks, tasks

NAME = "review"


def install(registry: Hooks) -> None:
    prechecks.install(registry)
    tasks.install(registry)
    registry.refusal(duties.decision_refusal)
    registry.installed(NAME)

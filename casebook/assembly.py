"""The composition root: builds an application context with every domain package's hooks installed
explicitly. Every entry point (CLI, web, flows, simulate, tests, benches) builds its context here."""

from __future__ import annotations

from casebook.core.clock import Clock
from casebook.core.context import AppContext, make_context
from casebook.core.hooks import Hooks
from casebook.core.settings import Settings
from policies.loader import Policy
from library import hooks as library_hooks
from notifications import hooks as notification_hooks
from redaction import hooks as redaction_hooks
from review import hooks as review_hooks

#: Packages whose hooks a context must carry (a missing one stops the build).
REQUIRED = (review_hooks.NAME, redaction_hooks.NAME, library_hooks.NAME, notification_hooks.NAME)


def application_hooks() -> Hooks:
    registry = Hooks()
    review_hooks.install(registry)
    redaction_hooks.install(registry)
    library_hooks.install(registry)
    notification_hooks.install(registry)
    return registry.seal(require=REQUIRED)


def build_context(now: str | None = None, settings: Settings | None = None, clock: Clock | None = None,
                  policy: Policy | None = None) -> AppContext:
    """The process's context: settings, policy and clock (defaults from the environment), hooks installed."""
    return make_context(hooks=application_hooks(), now=now, settings=settings, clock=clock, policy=policy)

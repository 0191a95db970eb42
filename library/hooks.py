"""What the library adds to the lifecycle: a version is indexed for search when it is published, and its
entries follow the case when it is taken down, archived or brought back."""

from __future__ import annotations

from casebook.core.hooks import Hooks
from library.index import follow_publication, index_publications

NAME = "library"


def install(registry: Hooks) -> None:
    registry.on_transition(follow_publication)
    registry.on_transitions(index_publications)
    registry.installed(NAME)

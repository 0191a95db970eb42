"""What the library adds to the lifecycle: a version is indexed for search when it is published, and its
entries follow the case when it is taken down, archived or brought back."""

from __future__ import annotations

from typing import Any

from casebook.core.hooks import Hooks

NAME = "library"


def follow_publication(event: Any) -> None:
    """``library.index.follow_publication``, imported on the first transition: a read-only command (``case
    list``) never loads the search index."""
    from library.index import follow_publication as follow

    follow(event)


def index_publications(events: list[Any]) -> None:
    """``library.index.index_publications``, imported on first use like ``follow_publication``."""
    from library.index import index_publications as index

    index(events)


def install(registry: Hooks) -> None:
    registry.on_transition(follow_publication)
    registry.on_transitions(index_publications)
    registry.installed(NAME)

"""What redaction adds to the lifecycle: a version's findings and every display tier's rendering are stored
when the version is written, in its transaction (read paths then never run the analyzer)."""

from __future__ import annotations

from casebook.core.hooks import Hooks
from redaction.stored import store_written_version

NAME = "redaction"


def install(registry: Hooks) -> None:
    registry.on_version(store_written_version)
    registry.installed(NAME)

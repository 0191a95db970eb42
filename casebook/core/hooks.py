"""The registry of reactions to state changes that one application context carries: listeners run after a
transition in its transaction, guards may refuse one on the case's facts, refusals on who the actor is. Domain packages contribute theirs through an explicit
``install(hooks)``; the composition root (``casebook.assembly``) calls them, so nothing is registered by the
side effect of an import, and two contexts never share a registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[Any], None]
#: Called once with every transition a call applied (one for ``fire``, a job's whole batch for ``fire_batch``),
#: after the per-transition listeners, in the same transaction: work that is cheaper done for many at once.
BatchListener = Callable[[list[Any]], None]
Guard = Callable[..., list[str]]
#: (conn, service, case row, actor, event) -> the rule that refuses this actor the event, or ''.
Refusal = Callable[..., str]
#: (conn, service, case id, version number, document, classification), when a version is written.
VersionListener = Callable[..., None]
#: (conn, case row, actor) -> whether the actor takes part in the case's pending version (e.g. reviews it).
WorkingReader = Callable[..., bool]


class Hooks:
    """Listeners and guards per event; frozen once the context that carries it is assembled."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._batch_listeners: list[BatchListener] = []
        self._guards: dict[str, list[Guard]] = {}
        self._refusals: list[Refusal] = []
        self._version_listeners: list[VersionListener] = []
        self._working_readers: list[WorkingReader] = []
        self._installed: list[str] = []
        self._sealed = False

    def on_transition(self, fn: Listener) -> Listener:
        self._check_open()
        if fn not in self._listeners:
            self._listeners.append(fn)
        return fn

    def on_transitions(self, fn: BatchListener) -> BatchListener:
        self._check_open()
        if fn not in self._batch_listeners:
            self._batch_listeners.append(fn)
        return fn

    def guard(self, event: str, fn: Guard) -> Guard:
        self._check_open()
        if fn not in self._guards.setdefault(event, []):
            self._guards[event].append(fn)
        return fn

    def refusal(self, fn: Refusal) -> Refusal:
        """A rule about the actor (not the case's facts) that may refuse an event, e.g. separation of duties."""
        self._check_open()
        if fn not in self._refusals:
            self._refusals.append(fn)
        return fn

    def on_version(self, fn: VersionListener) -> VersionListener:
        """Runs when a version is written (capture, edit), in its transaction: e.g. detection stored once."""
        self._check_open()
        if fn not in self._version_listeners:
            self._version_listeners.append(fn)
        return fn

    def working_reader(self, fn: WorkingReader) -> WorkingReader:
        """Says whether an actor reads a case's working version (everyone else reads the published one)."""
        self._check_open()
        if fn not in self._working_readers:
            self._working_readers.append(fn)
        return fn

    def installed(self, name: str) -> None:
        """Records that a package's hooks are in (``require`` checks it)."""
        self._check_open()
        self._installed.append(name)

    def seal(self, *, require: tuple[str, ...] = ()) -> "Hooks":
        missing = [name for name in require if name not in self._installed]
        if missing:
            raise RuntimeError(f"hooks not installed: {', '.join(missing)}")
        self._sealed = True
        return self

    @property
    def sealed(self) -> bool:
        return self._sealed

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._installed)

    def listeners(self) -> list[Listener]:
        return self._listeners

    def batch_listeners(self) -> list[BatchListener]:
        return self._batch_listeners

    def refusals(self) -> list[Refusal]:
        return self._refusals

    def version_listeners(self) -> list[VersionListener]:
        return self._version_listeners

    def working_readers(self) -> list[WorkingReader]:
        return self._working_readers

    def guards_for(self, event: str) -> list[Guard]:
        return self._guards.get(event, [])

    def _check_open(self) -> None:
        if self._sealed:
            raise RuntimeError("hooks are sealed once the context is built")

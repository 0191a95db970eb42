"""The state machine: one ``transitions.Machine`` per policy and thread, bound once to one plain model object.

The machine never touches the ORM row: ``CaseModel`` is a plain object that is loaded with one case's
facts before each use. Deciding an event is pure: the machine's own transitions for (event, stored state) are
tried in declared order with their conditions, and the first that passes names the destination; the service
writes it back in one transaction. Effects live in the service and its listeners, never in machine callbacks,
which is why building a machine with any callback is refused (deciding would silently skip it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine
from transitions.core import Event

from casebook.core.errors import Reason
from lifecycle import states as S
from lifecycle.document import submit_problems
from policies.loader import Policy


class CaseModel:
    """What the guards need to know about one case at one moment."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.state = S.DRAFT
        self.library = ""
        self.micro = False
        self.review_level = 0
        self.reentry_level = 1
        self.failed_guards: list[Reason] = []
        self._load_document: Callable[[], dict[str, Any]] = dict

    def load(self, *, library: str, micro: bool, review_level: int, reentry_level: int,
             document: Callable[[], dict[str, Any]]) -> None:
        self.library, self.micro = library, micro
        self.review_level, self.reentry_level = review_level, reentry_level
        self._load_document = document  # fetched only by guards that read content
        self.failed_guards = []

    # --- guards (conditions); each notes why it failed so refusals can say which rule ---
    def intake_complete(self, event: EventData) -> bool:
        if self.policy.doc.review.prechecks.severity["mandatory_fields"] != "block":
            return True  # policy makes the checklist a warning, shown to reviewers by the pre-checks
        problems = submit_problems(self.policy, self._load_document())
        if problems:
            self.failed_guards.append(Reason("err_intake_incomplete", problems=problems))
        return not problems

    def has_reason(self, event: EventData) -> bool:
        ok = bool((event.kwargs.get("reason") or "").strip())
        if not ok:
            self.failed_guards.append(Reason("err_reason_required_for", event=event.event.name))
        return ok

    def chain_length(self) -> int:
        return len(self.policy.chain_for(self.library, self.micro))

    def at_last_level(self, event: EventData) -> bool:
        return self.review_level >= self.chain_length()

    def instant_channel(self, event: EventData) -> bool:
        return self.micro or self.policy.doc.libraries[self.library].publish_channel == "instant"

    def entry_level(self) -> int:
        return min(self.reentry_level, self.chain_length())


def _entry_guard(level: int) -> Callable[[EventData], bool]:
    def guard(event: EventData) -> bool:
        return event.model.entry_level() == level

    guard.__name__ = f"enters_at_l{level}"
    return guard


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.bound: dict[str, tuple[Machine, CaseModel]] = {}


_local = _PerThread()


def _transitions(levels: int) -> list[dict[str, Any]]:
    table = S.transitions(levels)
    for t in table:
        t["conditions"] = [_entry_guard(int(c.removeprefix("enters_at_l"))) if c.startswith("enters_at_l") else c
                           for c in t.get("conditions", [])]
    return table


def bound_machine(policy: Policy) -> tuple[Machine, CaseModel]:
    """This thread's machine for the policy and the one plain model bound to it."""
    pair = _local.bound.get(policy.version_tag)
    if pair is None:
        model = CaseModel(policy)
        levels = policy.max_review_levels
        machine = Machine(model=model, states=S.states(levels), transitions=_transitions(levels), initial=S.DRAFT,
                          auto_transitions=False, send_event=True, ignore_invalid_triggers=False)
        _refuse_callbacks(machine)
        pair = (machine, model)
        _local.bound[policy.version_tag] = pair
    return pair


def _refuse_callbacks(machine: Machine) -> None:
    """Deciding runs conditions only; a callback anywhere on the machine would be skipped, so none may exist."""
    found = [f"machine.{name}" for name in ("prepare_event", "before_state_change", "after_state_change",
                                             "finalize_event", "on_final") if getattr(machine, name)]
    found += [f"state {state.name}: {kind}" for state in machine.states.values()
              for kind in ("on_enter", "on_exit", "on_final") if getattr(state, kind, None)]
    found += [f"{event.name} from {t.source}: {kind}" for event in machine.events.values()
              for ts in event.transitions.values() for t in ts for kind in ("prepare", "before", "after")
              if getattr(t, kind)]
    if found:
        raise ValueError("lifecycle machine callbacks are not supported (effects belong to the service and its "
                         "listeners): " + ", ".join(found))


def machine_for(policy: Policy) -> Machine:
    return bound_machine(policy)[0]


@dataclass(frozen=True)
class Outcome:
    """Result of trying an event: the new state, or why not."""

    ok: bool
    source: str
    dest: str
    reason: str = ""


def try_event(policy: Policy, state: str, event: str, *, library: str, micro: bool, review_level: int,
              reentry_level: int, document: Callable[[], dict[str, Any]], **kwargs: Any) -> Outcome:
    """Decide ``event`` from ``state`` on the plain model; never raises for an illegal event, says why instead.

    The machine's transitions for (event, state) are tried in declared order; the first whose conditions all
    pass wins, as ``Event.trigger`` would choose, without its state-changing machinery (nothing to change here:
    the stored row is the state).
    """
    machine, model = bound_machine(policy)
    found: Event | None = machine.events.get(event)
    candidates = found.transitions.get(state) if found is not None else None
    if not candidates:
        return Outcome(False, state, state, Reason("err_event_not_defined", event=event, state=state))
    model.load(library=library, micro=micro, review_level=review_level, reentry_level=reentry_level,
               document=document)
    data = EventData(machine.get_state(state), found, machine, model, args=(), kwargs=kwargs)
    for transition in candidates:
        data.transition = transition
        if all(condition.check(data) for condition in transition.conditions):
            return Outcome(True, state, transition.dest or state)
    failed = list(dict.fromkeys(model.failed_guards))
    if len(failed) == 1:
        return Outcome(False, state, state, failed[0])
    return Outcome(False, state, state, "; ".join(failed) or Reason("err_guard_failed"))


def defined_events(policy: Policy, state: str) -> list[str]:
    """Events that have a transition from ``state`` (before guards and permissions)."""
    machine = machine_for(policy)
    return [e for e in machine.get_triggers(state) if e in machine.events]

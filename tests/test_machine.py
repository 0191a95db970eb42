"""Deciding an event picks what the `transitions` library's own trigger would pick, for every state and event."""

from __future__ import annotations

import itertools

import pytest
from transitions import Machine

from lifecycle import states as S
from lifecycle.machine import CaseModel, _refuse_callbacks, _transitions, defined_events, try_event


def _reference(policy) -> tuple[Machine, CaseModel]:
    """A machine of its own (not the one ``try_event`` uses), built from the same declared table."""
    levels = policy.max_review_levels
    model = CaseModel(policy)
    machine = Machine(model=model, states=S.states(levels), transitions=_transitions(levels), initial=S.DRAFT,
                      auto_transitions=False, send_event=True, ignore_invalid_triggers=True)
    return machine, model


def _by_trigger(machine: Machine, model: CaseModel, state: str, event: str, facts: dict, document: dict,
                reason: str | None):
    """The library's answer: the machine put in ``state``, the event triggered, the model's state read back."""
    machine.set_state(state, model)
    model.load(**facts, document=lambda: document)
    fired = machine.events[event].trigger(model, reason=reason) if event in machine.events else False
    return fired, model.state, list(dict.fromkeys(model.failed_guards))


def test_decisions_match_the_library_trigger_everywhere(policy, full_case) -> None:
    levels = policy.max_review_levels
    events = S.events(levels) + ["no_such_event"]
    checked = moved = 0
    machine, model = _reference(policy)
    # One library per publish channel: the library matters to the guards only through its channel and chain.
    libraries = sorted({lib.publish_channel: name for name, lib in sorted(policy.doc.libraries.items())}.values())
    for state, event, library, micro, level, reentry, document, reason in itertools.product(
            S.states(levels), events, libraries, (False, True), range(levels + 1),
            range(1, levels + 1), (full_case, {}), ("outdated", None)):
        facts = {"library": library, "micro": micro, "review_level": level, "reentry_level": reentry}
        fired, dest, failed = _by_trigger(machine, model, state, event, facts, document, reason)
        outcome = try_event(policy, state, event, **facts, document=lambda d=document: d, reason=reason)
        assert (outcome.ok, outcome.dest) == (fired, dest), (state, event, facts, reason)
        if not outcome.ok and failed:
            assert outcome.reason == "; ".join(failed)
        checked += 1
        moved += outcome.ok
    # Both answers and refusals were compared, and every event has a state it is defined from.
    assert 0 < moved < checked
    assert {e for s in S.states(levels) for e in defined_events(policy, s)} == set(S.events(levels))


def test_a_machine_with_callbacks_is_refused(policy) -> None:
    levels = policy.max_review_levels
    table = _transitions(levels)
    table[0] = table[0] | {"after": "notify"}
    machine = Machine(model=CaseModel(policy), states=S.states(levels), transitions=table, initial=S.DRAFT,
                      auto_transitions=False, send_event=True, before_state_change="log")
    with pytest.raises(ValueError, match=r"machine\.before_state_change.*submit from draft: after"):
        _refuse_callbacks(machine)

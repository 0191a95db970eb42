"""Render the configured machine (states, triggers, guards) as a diagram."""

from __future__ import annotations

from lifecycle import states as S
from lifecycle.machine import machine_for
from policies.loader import Policy


def mermaid(policy: Policy) -> str:
    """A Mermaid ``stateDiagram-v2`` of the machine exactly as this policy configures it."""
    machine = machine_for(policy)
    lines = ["stateDiagram-v2", f"    [*] --> {S.DRAFT}"]
    for event_name, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                guards = [c.func if isinstance(c.func, str) else getattr(c.func, "__name__", "guard")
                          for c in t.conditions]
                label = event_name + (f" [{', '.join(guards)}]" if guards else "")
                lines.append(f"    {source} --> {t.dest} : {label}")
    for final in sorted(S.FINAL_STATES):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines) + "\n"

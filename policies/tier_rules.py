"""Whether one row of the redaction tier table applies to an entity and an audience (the first matching row wins).

Kept apart from the schema so the load-time coverage check and ``action_for`` share one definition."""

from __future__ import annotations

from typing import Any


def rule_matches(rule: Any, entity: str, classification: str, clearance: str, own: bool, author: bool) -> bool:
    """A ``RedactionRule`` matches when every condition it states holds; an omitted condition matches anything."""
    return ((rule.entities is None or entity in rule.entities)
            and (rule.classifications is None or classification in rule.classifications)
            and (rule.clearances is None or clearance in rule.clearances)
            and (rule.own_department is None or rule.own_department == own)
            and (rule.viewer_is_author is None or rule.viewer_is_author == author))

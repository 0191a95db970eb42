"""Bounds from policy (``limits``) on every input, checked before anything else looks at it.

A case document is walked once as it arrived (JSON or YAML already parsed): each text against its field's
length, all text together against the document's, each list against the item limit, each number finite and
within range. Checking the raw structure first means an oversized or absurd input is refused cheaply, before
validation, analysis or storage could spend time on it, and every problem names its field.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from casebook.core.errors import Problem
from policies.schema import InputLimits

#: Deeper nesting than any case document has is refused (and keeps the walk's own stack small).
MAX_DEPTH = 12



def max_chars(limits: InputLimits, path: str) -> int:
    """The limit of one text field: policy ``limits.field_max_chars`` for the longest prefix of its path (list
    indices dropped), else ``limits.text_max_chars``."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    for n in range(len(parts), 0, -1):
        limit = limits.field_max_chars.get(".".join(parts[:n]))
        if limit is not None:
            return limit
    return limits.text_max_chars

def number_problem(limits: InputLimits, field: str, value: Any) -> Problem | None:
    """A number that is not finite or is beyond ``limits.number_max`` in size; None when it is fine."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "")) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None  # not a number at all: the shape check names it
    if not number.is_finite():
        return Problem.of(field, "err_finite_number")
    if abs(number) > Decimal(str(limits.number_max)):
        return Problem.of(field, "err_number_max", max=f"{limits.number_max:g}")
    return None


def text_problem(limits: InputLimits, field: str, value: str | None) -> Problem | None:
    """A text longer than its field's limit; None when it fits."""
    if value is None:
        return None
    limit = max_chars(limits, field)
    if len(value) > limit:
        return Problem.of(field, "err_text_too_long", max=limit, got=len(value))
    return None


def document_problems(limits: InputLimits, raw: Any, *, numbers: tuple[str, ...] = ()) -> list[Problem]:
    """Every bound a raw document breaks. ``numbers`` names fields whose text values are amounts (a budget
    given as the string "1e400" is still a number out of range)."""
    problems: list[Problem] = []
    total = 0
    stack: list[tuple[str, Any, int]] = [("", raw, 0)]
    while stack:
        path, value, depth = stack.pop()
        name = path or "(document)"
        if depth > MAX_DEPTH:
            problems.append(Problem.of(name, "err_too_deep", max=MAX_DEPTH))
            continue
        if isinstance(value, str):
            total += len(value)
            problem = text_problem(limits, name, value)
            if problem is None and _unindexed(path) in numbers:
                problem = number_problem(limits, name, value)
            if problem:
                problems.append(problem)
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            problem = number_problem(limits, name, value)
            if problem:
                problems.append(problem)
        elif isinstance(value, (list, tuple)):
            if len(value) > limits.list_max_items:
                problems.append(Problem.of(name, "err_too_many_items", max=limits.list_max_items, got=len(value)))
                continue
            stack.extend((f"{path}.{i}" if path else str(i), v, depth + 1) for i, v in enumerate(value))
        elif isinstance(value, dict):
            if len(value) > limits.list_max_items:
                problems.append(Problem.of(name, "err_too_many_entries", max=limits.list_max_items, got=len(value)))
                continue
            for k, v in value.items():
                key = str(k)
                total += len(key)
                stack.append((f"{path}.{key}" if path else key, v, depth + 1))
    if total > limits.document_max_chars:
        problems.append(Problem.of("(document)", "err_document_too_long", max=limits.document_max_chars, got=total))
    return sorted(problems, key=lambda p: p.field)


def _unindexed(path: str) -> str:
    return ".".join(p for p in path.split(".") if not p.isdigit())

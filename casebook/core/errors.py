"""Errors users see: each names the field or state and the rule, and guarantees nothing was written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted path) and which rule it broke."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class CasebookError(Exception):
    """Base of every refusal; ``exit_code`` is what the CLI returns, ``http_status`` what the API answers."""

    exit_code = 1
    http_status = 400


class InvalidInput(CasebookError):
    """Input that breaks one or more rules; lists every problem, not just the first."""

    exit_code = 2
    http_status = 422

    def __init__(self, problems: list[Problem], what: str = "input") -> None:
        self.problems = problems
        super().__init__(f"invalid {what}: " + "; ".join(str(p) for p in problems))


class IllegalTransition(CasebookError):
    """An event that the current state, its guards or the actor's role do not allow."""

    exit_code = 3
    http_status = 409

    def __init__(self, case_key: str, event: str, state: str, allowed: list[str], reason: str = "") -> None:
        self.case_key, self.event, self.state, self.allowed, self.reason = case_key, event, state, allowed, reason
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{case_key}: event '{event}' is not allowed in state '{state}'{why}; "
            f"allowed now: {', '.join(allowed) if allowed else 'none'}"
        )


class ConcurrentModification(CasebookError):
    """Someone else changed the row first; the loser's change is rolled back whole."""

    exit_code = 4
    http_status = 409


class NotFound(CasebookError):
    exit_code = 5
    http_status = 404


class Forbidden(CasebookError):
    exit_code = 6
    http_status = 403


def describe(error: CasebookError, locale: str) -> str:
    """The error as a user of ``locale`` reads it (pages, API and CLI all show errors through this).

    Placeholder until every refusal carries a catalog key: for now the error's own text."""
    return str(error)


def describe_problem(problem: Problem, locale: str) -> str:
    """One problem (field and rule) as a user of ``locale`` reads it."""
    return str(problem)

"""The quality rubric: every criterion scored on the policy's levels; any score below the pass mark forces a return."""

from __future__ import annotations

from casebook.core.errors import Problem
from policies.schema import RubricPolicy


def rubric_problems(rubric: RubricPolicy, scores: dict[str, int], decision: str) -> list[Problem]:
    problems: list[Problem] = []
    for name in scores:
        if name not in rubric.criteria:
            problems.append(Problem.of(f"scores.{name}", "err_unknown_criterion", known=list(rubric.criteria)))
    if decision == "approve":
        for name in rubric.criteria:
            if name not in scores:
                problems.append(Problem.of(f"scores.{name}", "err_required_to_approve"))
    for name, value in scores.items():
        if not isinstance(value, int) or not 1 <= value <= rubric.levels:
            problems.append(Problem.of(f"scores.{name}", "err_score_range", max=rubric.levels))
        elif decision == "approve" and name in rubric.criteria and value < rubric.pass_min:
            problems.append(Problem.of(f"scores.{name}", "err_score_below_pass", value=value, min=rubric.pass_min))
    return problems


def below_pass_mark(rubric: RubricPolicy, scores: dict[str, int]) -> list[str]:
    """Criteria scored below the pass mark: such a decision is a return (the spec: below 3 returns the case)."""
    return [name for name, value in scores.items() if isinstance(value, int) and value < rubric.pass_min]

"""The review chain of a case and who may decide each level."""

from __future__ import annotations

from typing import Any

from policies.loader import Policy
from policies.schema import ReviewLevel


def level_of(policy: Policy, case: Any, level: int) -> ReviewLevel:
    chain = policy.chain_for(case.library, case.micro)
    return chain[min(level, len(chain)) - 1]


def candidate_department(level: ReviewLevel, case_department: str) -> str | None:
    """The department a level's candidates must belong to, or None when any may decide."""
    return case_department if level.scope == "case_department" else None

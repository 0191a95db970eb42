"""The policy of what the library teaches and how cases point at each other: learning paths per role (ordered
cases, chosen by a list of case keys or by a tag query), the case of the day, and links between cases (who may
create them). Kept beside the schema so the learning and link rules read as one block."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A case key as Casebook writes it (``lifecycle.service``): CB- and six or more digits.
CASE_KEY = re.compile(r"^CB-\d{6,}$")


class _Strict(BaseModel):
    # defer_build: a model builds its validator when it first validates, not at import; a command answered by
    # the validated policy cache (policies.parsed_cache) validates nothing and saves building them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class LearningPath(_Strict):
    """One role's path: the cases in order, given as keys (``cases``) or found by a tag query (``tags``: every facet
    must match one of its values; newest publication first), at most ``max_items``. Due dates: each item
    ``days_per_item`` after the one before, or every item within ``total_days`` of the assignment."""

    cases: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)
    max_items: int = Field(default=10, gt=0, le=100)
    days_per_item: int | None = Field(default=None, gt=0, le=365)
    total_days: int | None = Field(default=None, gt=0, le=3650)

    @model_validator(mode="after")
    def _one_way(self) -> "LearningPath":
        if bool(self.cases) == bool(self.tags):
            raise ValueError("give either cases (a list of case keys) or tags (a tag query), exactly one")
        if (self.days_per_item is None) == (self.total_days is None):
            raise ValueError("give either days_per_item or total_days, exactly one")
        bad = [k for k in self.cases if not CASE_KEY.match(k)]
        if bad:
            raise ValueError(f"cases: not case keys (CB-000000): {', '.join(bad)}")
        if len(set(self.cases)) != len(self.cases):
            raise ValueError("cases: a case is listed twice")
        return self


class LearningPolicy(_Strict):
    """Learning tasks for new users and the case of the day."""

    paths: dict[str, LearningPath] = Field(default_factory=dict)
    #: The daily flow gives their path to users created within this many days who do not have it yet.
    new_user_days: int = Field(gt=0, le=365)
    #: A learning task is reminded this many days before it is due (0: on the day), and again once overdue.
    remind_days_before: int = Field(ge=0, le=60)
    #: Who sees the learning progress of the users of their department (all departments if not department-scoped).
    progress_roles: list[str] = Field(default_factory=list)
    #: The case of the day never repeats a case for one user within this many days.
    case_of_day_no_repeat_days: int = Field(gt=0, le=3650)


#: The kinds of link, each with the wording shown on the other case (``supersedes`` -> ``superseded by``).
LINK_KINDS: tuple[str, ...] = ("related", "follow_up", "supersedes", "contradicts")


class LinkPolicy(_Strict):
    """Links between cases: which kinds are in use and which roles may create or remove them."""

    kinds: list[str] = Field(min_length=1)
    create_roles: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> "LinkPolicy":
        bad = [k for k in self.kinds if k not in LINK_KINDS]
        if bad:
            raise ValueError(f"kinds: unknown link kind {', '.join(bad)}; known: {', '.join(LINK_KINDS)}")
        return self


def learning_problems(doc: Any) -> list[str]:
    """Cross-references of the learning and link blocks (``path: rule`` strings, as the schema reports them):
    every path's role, every role named, every tag facet and (for closed facets) value must exist."""
    errors: list[str] = []
    for role, path in doc.learning.paths.items():
        if role not in doc.roles:
            errors.append(f"learning.paths.{role}: unknown role '{role}'")
        for facet, values in path.tags.items():
            spec = doc.tag_facets.get(facet)
            if spec is None:
                errors.append(f"learning.paths.{role}.tags.{facet}: unknown tag facet")
            elif not spec.open:
                errors += [f"learning.paths.{role}.tags.{facet}.{i}: unknown value '{v}'"
                           for i, v in enumerate(values) if v not in spec.values]
            if not values:
                errors.append(f"learning.paths.{role}.tags.{facet}: needs at least one value")
    for attr, roles in (("learning.progress_roles", doc.learning.progress_roles),
                        ("links.create_roles", doc.links.create_roles)):
        errors += [f"{attr}.{i}: unknown role '{r}'" for i, r in enumerate(roles) if r not in doc.roles]
    return errors

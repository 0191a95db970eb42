"""The header navigation as data: one entry per page, shown only to roles holding its permission.

Another page joins the navigation with one line here (its catalog key, path and the permission that opens it;
``None`` for every signed-in user; ``policy:<dotted path>`` for a role list the policy names, such as
``policy:reports.readers``). The base template renders the entries the signed-in role may use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

MayFn = Callable[[str], bool]


@dataclass(frozen=True)
class NavEntry:
    """A header link: the catalog key of its text, its path, the permission it needs (None: any signed-in user)."""

    key: str
    path: str
    permission: str | None = None


NAV: list[NavEntry] = [
    NavEntry("my_tasks", "/"),
    NavEntry("search", "/search"),
    NavEntry("my_cases", "/my-cases"),
    NavEntry("nav_learning", "/learning"),
    NavEntry("new_case", "/cases/new", "case.create"),
    NavEntry("dashboard", "/dashboard", "reports.read"),
    NavEntry("reports.heading", "/reports", "policy:reports.readers"),
    NavEntry("hc.title.quarterly_review", "/reports/quarterly", "reports.read"),
    NavEntry("health", "/reports/health", "reports.read"),
    NavEntry("nps.heading", "/nps"),
    NavEntry("preferences", "/preferences"),
]


def visible(may: MayFn) -> list[NavEntry]:
    """The entries a role may use (``may`` answers whether it holds a permission, outright or on its own cases)."""
    return [e for e in NAV if e.permission is None or may(e.permission)]


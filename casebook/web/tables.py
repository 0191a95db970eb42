"""Server-side sorting and paging of a page's table, driven by query parameters (``sort``, ``dir``, ``p``) so it
works without JavaScript: each column heading is a link that sorts by it, and the pager links keep the order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

PER_PAGE = 20


@dataclass(frozen=True)
class Table:
    """One page of ``rows`` in the chosen order, with the links a template needs."""

    rows: list[Any]
    sort: str
    descending: bool
    page: int
    pages: int
    total: int
    base: str
    extra: tuple[tuple[str, str], ...] = ()
    per_page: int = PER_PAGE

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when the table is empty)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)

    def url(self, *, sort: str | None = None, page: int | None = None) -> str:
        """The address of this table sorted by ``sort`` (flipping the direction when it already is) or at ``page``."""
        if sort is None:
            params = {"sort": self.sort, "dir": "desc" if self.descending else "asc", "p": page or self.page}
        else:
            flip = sort == self.sort and not self.descending
            params = {"sort": sort, "dir": "desc" if flip else "asc", "p": 1}
        return f"{self.base}?{urlencode([*self.extra, *params.items()])}"

    def aria_sort(self, column: str) -> str:
        """The ``aria-sort`` value of a column heading (screen readers announce the order)."""
        if column != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def paged(rows: Sequence[Any], keys: dict[str, Callable[[Any], Any]], *, sort: str | None, direction: str | None,
          page: str | int | None, default: str, base: str, per_page: int = PER_PAGE,
          extra: dict[str, str] | None = None) -> Table:
    """``rows`` sorted by the column ``sort`` names (one of ``keys``; ``default`` otherwise) and cut to ``page``.

    Unknown sort names and page numbers out of range fall back to the default and the nearest page: a query
    parameter typed by hand never breaks the page."""
    column = sort if sort in keys else default
    descending = direction == "desc"
    key = keys[column]
    ordered = sorted(rows, key=lambda r: (key(r) is None, key(r) if key(r) is not None else 0), reverse=False)
    if descending:
        present = [r for r in ordered if key(r) is not None][::-1]
        ordered = present + [r for r in ordered if key(r) is None]
    pages = max(1, -(-len(ordered) // per_page))
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        number = 1
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    return Table(ordered[start:start + per_page], column, descending, number, pages, len(ordered), base,
                 tuple((extra or {}).items()), per_page)

"""A search result as CSV at the viewer's tier: every matching case the viewer may read (up to ``MAX_ROWS``),
its facts and figures from the stored rendering of its published version (the analyzer never runs here).

Written for spreadsheets: UTF-8 with a byte-order mark (so Excel reads Chinese correctly), CRLF line ends, and
every cell that a spreadsheet would take for a formula (``= + - @``, tab, carriage return first) prefixed with an
apostrophe. Each case in the file counts as one download towards the bulk-download rule, and is in the access
log like any download."""

from __future__ import annotations

import csv
import io
from typing import Any

from access.accounts import record_downloads
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.i18n import gettext
from casebook.core.users import Actor
from library import search
from library.export import label, locale_of
from redaction.render import shown_budget, shown_metric
from redaction.views import rendered_view

#: The most cases one CSV holds (the search's pages are walked up to it).
MAX_ROWS = 1000
COLUMNS = ("key", "title", "library", "scenario", "outcome", "state", "published", "budget", "metrics", "rating",
           "snippet")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _rows(ctx: AppContext, actor: Actor, query: str, tags: dict[str, str] | None, filters: search.Filters | None,
          sort: str, max_rows: int) -> list[search.Hit]:
    hits: list[search.Hit] = []
    page = 1
    while len(hits) < max_rows:
        found = search.search(ctx, actor, query, tags, limit=search.MAX_PER_PAGE, filters=filters, sort=sort,
                              page=page, facets=False)
        hits += found.items
        if page * search.MAX_PER_PAGE >= found.total or not found.items:
            break
        page += 1
    return hits[:max_rows]


def export_search_csv(ctx: AppContext, actor: Actor, query: str = "", tags: dict[str, str] | None = None, *,
                      filters: search.Filters | None = None, sort: str = "relevance", locale: str | None = None,
                      ip: str | None = None, via: str = "api", max_rows: int = MAX_ROWS) -> str:
    """The search result as CSV text (BOM first), each case at the viewer's tier; recorded as downloads."""
    locale = locale_of(ctx, actor, locale)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([gettext(f"export.col_{c}", locale) for c in COLUMNS])
    shown: list[tuple[str, int | None]] = []
    for hit in _rows(ctx, actor, query, tags, filters, sort, max_rows):
        try:
            view, _audience = rendered_view(ctx, actor, hit.key, published=True)
        except CasebookError:  # withdrawn or out of reach since the search answered: left out
            continue
        doc = view.document
        budget = doc.get("budget")
        writer.writerow([safe_cell(v) for v in (
            view.key, doc.get("title"), label(ctx, doc.get("library"), locale), doc.get("scenario"),
            doc.get("outcome"), label(ctx, view.state, locale, "state_"), (hit.published_at or "")[:10],
            shown_budget(budget) if budget else "",
            "; ".join(f"{m.get('name')}: {shown_metric(m)}" for m in doc.get("metrics") or []),
            "" if hit.rating is None else f"{hit.rating:.1f}", hit.snippet)])
        shown.append((view.key, view.version_no))
    body = "\ufeff" + out.getvalue()
    record_downloads(ctx, actor, shown, len(body.encode()), ip, via=via)
    return body

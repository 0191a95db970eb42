"""What ``casebook library export`` does with its options: one case as Markdown or PDF, or a search result as
CSV, through the same domain functions as the pages and the API (access log ``via=cli``)."""

from __future__ import annotations

from casebook.core.context import AppContext
from casebook.core.errors import InvalidInput, Problem
from casebook.core.users import Actor

FORMATS = ("md", "pdf", "csv")


def run_export(ctx: AppContext, actor: Actor, key: str | None, fmt: str, query: str | None,
               tags: list[str] | None) -> bytes:
    """The export's bytes; a wrong combination of options is refused naming the option (exit 2)."""
    problems = []
    if fmt not in FORMATS:
        problems.append(Problem.of("--format", "err_one_of_got", allowed=", ".join(FORMATS), value=fmt))
    elif fmt == "csv" and query is None:
        problems.append(Problem.of("--search", "err_csv_needs_search"))
    elif fmt != "csv" and query is not None:
        problems.append(Problem.of("--format", "err_search_needs_csv"))
    elif fmt != "csv" and not key:
        problems.append(Problem.of("KEY", "err_key_needed_for_format", format=fmt))
    bad_tags = [t for t in tags or [] if ":" not in t]
    if bad_tags:
        problems.append(Problem.of("--tag", "err_facet_value", value=bad_tags[0]))
    if problems:
        raise InvalidInput(problems, "export")
    try:
        if fmt == "csv":
            from library.export_csv import export_search_csv

            found = dict(t.split(":", 1) for t in tags or [])
            return export_search_csv(ctx, actor, query or "", found or None, via="cli").encode()
        if fmt == "pdf":
            from library.export_pdf import export_pdf

            return export_pdf(ctx, actor, key or "", via="cli")
        from library.export import export_markdown

        return export_markdown(ctx, actor, key or "", via="cli").encode()
    finally:
        ctx.access_log.flush()  # the command's process ends right after: its downloads are written now

"""The library from the command line: search, export and the operations dashboard — the same domain functions
the pages and the API call, at the acting user's tier."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from casebook.cli.common import (acting, AsOpt, console, context, figures_table, guarded, JsonOpt, NowOpt, print_json, say,
                                 table as cli_table)
app = typer.Typer(no_args_is_help=True, help="Search the library, export a case, read the dashboard.")


@app.command("search")
@guarded
def search_cmd(query: Annotated[str, typer.Argument(help="Words to look for (Chinese or English).")] = "",
               tag: Annotated[list[str] | None, typer.Option("--tag", help="facet:value, repeatable.")] = None,
               as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Cases the acting user may read that match the words and tags, with snippets at their tier."""
    from library import search

    ctx = context(now)
    tags = dict(t.split(":", 1) for t in tag or [] if ":" in t)
    results = search.search(ctx, acting(ctx, as_user), query, tags)
    hits = [h.as_json() for h in results]
    if json_out:
        print_json({"total": results.total, "page": results.page, "per_page": results.per_page, "results": hits})
        return
    if not hits:
        console.print(say("out_no_match"))
        return
    table = cli_table("key", "title", "snippet")
    for h in hits:
        table.add_row(str(h.get("key", "")), str(h.get("title", "")), str(h.get("snippet", "")))
    console.print(table)


@app.command("export")
@guarded
def export_cmd(key: Annotated[str | None, typer.Argument(help="The case to export (omit with --search).")] = None,
               fmt: Annotated[str, typer.Option("--format", help="md or pdf for a case; csv for --search.")] = "md",
               query: Annotated[str | None, typer.Option("--search", help="Export this search's result (CSV).")] = None,
               tag: Annotated[list[str] | None, typer.Option("--tag", help="facet:value, repeatable.")] = None,
               out: Annotated[Path | None, typer.Option("--out", help="Write to this file (default: stdout).")] = None,
               as_user: AsOpt = None, now: NowOpt = None) -> None:
    """A case as Markdown or PDF, or a search result as CSV, at the acting user's tier (each case counts as a
    download towards the bulk-download rule)."""
    from casebook.cli.export_cmd import run_export

    ctx = context(now)
    data = run_export(ctx, acting(ctx, as_user), key, fmt, query, tag)
    if out is not None:
        out.write_bytes(data)
        console.print(say("out_written", path=out, bytes=len(data)), highlight=False)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@app.command("dashboard")
@guarded
def dashboard_cmd(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The operations dashboard's figures (for roles allowed to read reports)."""
    from library.dashboard import figures_for

    ctx = context(now)
    data = figures_for(ctx, acting(ctx, as_user))
    if json_out:
        print_json(data)
        return
    console.print(figures_table(ctx, data), highlight=False)

"""Monthly usage and effect reports from the command line, and the two things readers give back for them
("I reused this case" marks, the monthly NPS answer): the same domain functions the pages and the API call."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import (AsOpt, JsonOpt, NowOpt, acting, console, context, guarded, label, print_json, say,
                                 table as cli_table)

app = typer.Typer(no_args_is_help=True, help="Monthly usage and effect reports, reuse marks and the NPS answer.")


@app.command("run")
@guarded
def run_cmd(month: Annotated[str | None, typer.Option("--month", help="YYYY-MM; the previous month by default.")] = None,
            force: Annotated[bool, typer.Option("--force", help="Write again even if the month's reports exist.")] = False,
            as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Write a month's usage and effect reports (HTML, Markdown, CSV) into the reports folder."""
    from library import dashboard, reports

    ctx = context(now)
    reports.require_reader(ctx, acting(ctx, as_user))
    chosen = reports.check_month(month) if month else dashboard.previous_month(ctx)
    written = reports.write_month(ctx, chosen, force=force)
    if json_out:
        print_json({"month": chosen, "written": written, "folder": str(reports.folder(ctx))})
        return
    if written:
        console.print(say("out_reports_written", names=", ".join(written), folder=reports.folder(ctx)), highlight=False)
    else:
        console.print(say("out_reports_exist", month=chosen), highlight=False)


@app.command("list")
@guarded
def list_cmd(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The monthly reports written so far, newest first."""
    from library import reports

    ctx = context(now)
    found = reports.list_reports(ctx, acting(ctx, as_user))
    if json_out:
        print_json(found)
        return
    if not found:
        console.print(say("out_no_reports"))
        return
    table = cli_table("report", "month", "formats")
    for r in found:
        table.add_row(r["name"], r["month"], ", ".join(r["formats"]))
    console.print(table)


@app.command("show")
@guarded
def show_cmd(name: Annotated[str, typer.Argument(help="usage-YYYY-MM or effect-YYYY-MM")],
             fmt: Annotated[str, typer.Option("--format", help="md, csv, html or json")] = "md",
             as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Print a written report in one of its formats."""
    from library import reports

    ctx = context(now)
    typer.echo(reports.report_file(ctx, acting(ctx, as_user), name, fmt).read_text(encoding="utf-8"))


@app.command("reuse")
@guarded
def reuse_cmd(key: Annotated[str, typer.Argument(help="The case you reused.")],
              outcome: Annotated[str, typer.Argument(help="How it went (policy reports.reuse_outcomes).")],
              note: Annotated[str | None, typer.Option("--note", help="A short note.")] = None,
              as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Mark a published case as reused ("I reused this case"), with its outcome."""
    from library.usage import mark_reuse

    ctx = context(now)
    result = mark_reuse(ctx, acting(ctx, as_user), key, outcome, note)
    if json_out:
        print_json(result)
    else:
        console.print(say("out_reuse", case=key, outcome=label(ctx, outcome)), highlight=False)


@app.command("nps")
@guarded
def nps_cmd(score: Annotated[int, typer.Argument(help="0-10: how likely you are to recommend the library.")],
            comment: Annotated[str | None, typer.Option("--comment", help="Why (optional).")] = None,
            as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Answer this month's NPS question (a second answer the same month replaces the first)."""
    from library.usage import answer_nps

    ctx = context(now)
    result = answer_nps(ctx, acting(ctx, as_user), score, comment)
    if json_out:
        print_json(result)
    else:
        console.print(say("out_nps", month=result["month"], score=score), highlight=False)

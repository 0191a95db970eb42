"""``casebook tasks``: everything a person owes (the same inbox as the home page and the API), and closing a
work item with a decision."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import (acting, AsOpt, cli_locale, console, context, guarded, JsonOpt, label, NowOpt,
                                 print_json, say, table as cli_table)
app = typer.Typer(help="Everything a person owes, and closing work items.")


@app.callback(invoke_without_command=True)
@guarded
def tasks(typer_ctx: typer.Context, as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """List everything the acting user owes, soonest due first."""
    if typer_ctx.invoked_subcommand:
        return
    from library.inbox import inbox

    ctx = context(now)
    items = inbox(ctx, acting(ctx, as_user))
    if json_out:
        print_json([i.as_json(ctx.clock.tz, cli_locale()) for i in items])
        return
    if not items:
        console.print(say("out_nothing_owed"))
        return
    table = cli_table("id", "kind", "case", "title", "due", "status", "next")
    for i in items:
        due = i.due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M") if i.due else ""
        table.add_row(i.id, label(ctx, i.kind, "kind_"), i.case or "", i.title, due, label(ctx, i.status, "status_"),
                      " / ".join(i.actions))
    console.print(table)


@app.command("close")
@guarded
def close(item: Annotated[int, typer.Argument(help="The work item's number (the N of work-N).")],
          decision: Annotated[str, typer.Option(help="How it closes (e.g. renew, retire, rectified, answered, "
                                                     "cancel).")],
          reason: Annotated[str, typer.Option(help="What was decided or changed (the answer, for corrections).")],
          as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Close a work item; an evaluation's renew or retire fires that transition (audited)."""
    from lifecycle.work import close_work_item

    ctx = context(now)
    status = close_work_item(ctx, acting(ctx, as_user), item, decision, reason)
    console.print(say("out_work_closed", item=item, decision=label(ctx, decision, "decision_"), status=label(ctx, status, "status_")))


@app.command("answer")
@guarded
def answer(item: Annotated[int, typer.Argument(help="The correction request's work item (work-N).")],
           text: Annotated[str, typer.Option("--text", help="The answer sent to the requester.")],
           as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Answer a correction request (the requester receives the answer)."""
    from lifecycle.work import close_work_item

    ctx = context(now)
    close_work_item(ctx, acting(ctx, as_user), item, "answered", text)
    console.print(say("out_work_answered", item=item))

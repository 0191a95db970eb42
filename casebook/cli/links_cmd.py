"""``casebook links``: links between cases (related, follow_up, supersedes, contradicts), listed as the reader
may see them, added and removed by the roles policy names (audited)."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import (acting, AsOpt, console, context, guarded, JsonOpt, label, NowOpt, print_json, say,
                                 table as cli_table)
app = typer.Typer(no_args_is_help=True, help="Links between cases.")
KindArg = Annotated[str, typer.Argument(help="related, follow_up, supersedes or contradicts (policy links.kinds).")]


@app.command("list")
@guarded
def list_links(case: Annotated[str, typer.Argument(help="The case key.")], as_user: AsOpt = None,
               json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The links of a case, each from this case's side; links to cases you may not read are not shown."""
    from library.links import visible_links

    ctx = context(now)
    shown = visible_links(ctx, acting(ctx, as_user), case)
    if json_out:
        print_json([link.as_json() for link in shown])
        return
    table = cli_table("relation", "case", "title", "note")
    for link in shown:
        table.add_row(label(ctx, link.wording, "link_"), link.other_key, link.other_title, link.note or "")
    console.print(table if shown else say("out_no_links", case=case))


@app.command("add")
@guarded
def add(case: Annotated[str, typer.Argument(help="The source case (e.g. the newer one that supersedes).")],
        kind: KindArg, target: Annotated[str, typer.Argument(help="The other case.")],
        note: Annotated[str | None, typer.Option(help="Why they are linked.")] = None,
        as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Link CASE KIND TARGET, e.g. ``casebook links add CB-000002 supersedes CB-000001``."""
    from library.links import link_cases

    ctx = context(now)
    new = link_cases(ctx, acting(ctx, as_user), case, kind, target, note=note)
    console.print(say("out_linked" if new else "out_already_linked", case=case, kind=label(ctx, kind, "link_"), target=target))


@app.command("remove")
@guarded
def remove(case: Annotated[str, typer.Argument(help="The source case.")], kind: KindArg,
           target: Annotated[str, typer.Argument(help="The other case.")],
           reason: Annotated[str, typer.Option(help="Why the link goes.")],
           as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Remove a link (audited with the reason)."""
    from library.links import unlink_cases

    ctx = context(now)
    gone = unlink_cases(ctx, acting(ctx, as_user), case, kind, target, reason=reason)
    console.print(say("out_link_removed" if gone else "out_no_such_link", case=case, kind=label(ctx, kind, "link_"),
                      target=target))

"""``casebook audit verify``."""

from __future__ import annotations

import typer

from casebook.core import audit
from casebook.cli.common import JsonOpt, console, context, err_console, guarded, print_json

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


@app.command("verify")
@guarded
def verify(json_out: JsonOpt = False) -> None:
    """Check the whole hash chain: exit 0 if intact, 1 naming the first broken event."""
    ctx = context()
    with ctx.sessions() as session:
        result = audit.verify(session, ctx.audit.key)
    if json_out:
        print_json({"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq,
                    "reason": result.reason})
    elif result.ok:
        console.print(f"audit chain intact: {result.checked} events")
    else:
        err_console.print(f"[bold red]audit chain broken at event {result.broken_seq}:[/] {result.reason} "
                          f"({result.checked} events verified before it)", highlight=False)
    if not result.ok:
        raise typer.Exit(1)

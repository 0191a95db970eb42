"""Access requests from the command line: ask to read a case, or decide a request as its approver."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import AsOpt, NowOpt, acting, console, context, guarded, label, say

app = typer.Typer(no_args_is_help=True, help="Ask for access to a case, or decide a request.")


@app.command("request")
@guarded
def request_cmd(key: str, reason: Annotated[str, typer.Option("--reason", help="Why you need to read it.")],
                as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Ask the case's approvers for read access (they are notified; the request has an SLA)."""
    from access.requests import request_access

    ctx = context(now)
    rid = request_access(ctx, acting(ctx, as_user), key, reason)
    console.print(say("out_access_sent", id=rid, case=key))


@app.command("decide")
@guarded
def decide_cmd(request_id: int, approve: Annotated[bool, typer.Option("--approve/--deny")],
               as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Approve or deny an access request (department head of the case's department, by policy)."""
    from access.requests import decide_access

    ctx = context(now)
    status = decide_access(ctx, acting(ctx, as_user), request_id, approve)
    console.print(say("out_access_decided", id=request_id, status=label(ctx, status, "status_")))

"""Partner API keys: make one (printed once), list them, revoke one."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import (AsOpt, JsonOpt, NowOpt, acting, console, context, guarded, print_json, say,
                                 table as cli_table)

app = typer.Typer(no_args_is_help=True, help="Partner API keys (public cases at the public tier only).")


@app.command("add")
@guarded
def add_cmd(name: str, scope: Annotated[list[str], typer.Option("--scope", help="e.g. cases:read; repeatable.")],
            days: Annotated[int | None, typer.Option("--days", help="Valid for (default: policy partners.key_days).")] = None,
            as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Make a key for a partner. The key is printed once and never stored: hand it over now."""
    from access.partners import add_partner

    ctx = context(now)
    key_id, secret = add_partner(ctx, acting(ctx, as_user), name, scope, days=days)
    if json_out:
        print_json({"id": key_id, "name": name, "key": secret})
        return
    typer.echo(secret)
    console.print(say("out_partner_made", name=name, id=key_id), style="dim")


@app.command("list")
@guarded
def list_cmd(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Partners with their key hint, scopes, expiry and status."""
    from access.partners import list_partners

    ctx = context(now)
    rows = list_partners(ctx, acting(ctx, as_user))
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print(say("out_no_partners"))
        return
    table = cli_table("name", "key", "scopes", "expires", "status")
    for r in rows:
        table.add_row(r["name"], r["hint"], ", ".join(r["scopes"]), r["expires_at"], r["status"])
    console.print(table)


@app.command("revoke")
@guarded
def revoke_cmd(name: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Revoke a partner's key at once (audited)."""
    from access.partners import revoke_partner

    ctx = context(now)
    revoke_partner(ctx, acting(ctx, as_user), name)
    console.print(say("out_partner_revoked", name=name))

"""``casebook users add|list``."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from casebook.cli.common import (acting, AsOpt, console, context, guarded, JsonOpt, label, NowOpt, print_json, say,
                                 table as cli_table)
from casebook.core.errors import Forbidden
from casebook.core.users import User, add_user

app = typer.Typer(no_args_is_help=True, help="Manage users (roles, departments and clearances come from policy).")


@app.command("add")
@guarded
def add(username: str,
        role: Annotated[str, typer.Option(help="A role from policy.")],
        department: Annotated[str, typer.Option(help="The user's department.")],
        name: Annotated[str | None, typer.Option(help="Display name.")] = None,
        clearance: Annotated[str | None, typer.Option(help="Defaults to the role's clearance.")] = None,
        locale: Annotated[str, typer.Option(help="zh-Hant, zh-Hans or en.")] = "zh-Hans",
        email: Annotated[str | None, typer.Option()] = None,
        as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Add a user (as an admin, or as the local operator when no --as is given)."""
    ctx = context(now)
    actor = acting(ctx, as_user, required=False)
    if not actor.is_system and not ctx.policy.may(actor.role, "users.manage", own=False):
        raise Forbidden.of("err_lacks_permission", role=actor.role, permission="users.manage")
    with ctx.sessions.begin() as session:
        user = add_user(session, ctx.policy, ctx.audit, ctx.clock.now(), actor=actor.username, username=username,
                        role=role, department=department, display_name=name, clearance=clearance, locale=locale,
                        email=email)
    console.print(say("out_user_added", user=username, role=label(ctx, role), department=label(ctx, department),
                      clearance=label(ctx, user.clearance)))
    from library.learning import assign_path   # the role's learning path lands in the new user's inbox at once

    if (count := assign_path(ctx, username, by=actor.username)):
        console.print(say("out_learning_assigned", user=username, count=count))


@app.command("list")
@guarded
def list_users(json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """List users."""
    ctx = context(now)
    with ctx.sessions() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
    rows = [{"username": u.username, "name": u.display_name, "role": u.role, "department": u.department,
             "clearance": u.clearance, "locale": u.locale, "email": u.email, "active": u.active} for u in users]
    if json_out:
        print_json(rows)
        return
    table = cli_table("username", "name", "role", "department", "clearance", "locale")
    for r in rows:
        table.add_row(r["username"], r["name"], label(ctx, r["role"]), label(ctx, r["department"]),
                      label(ctx, r["clearance"]), r["locale"])
    console.print(table)


@app.command("passwd")
@guarded
def passwd(username: str,
           password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")]
           = False, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Set a user's sign-in password (argon2id); old sessions and tokens end."""
    import sys

    from access.accounts import set_password

    ctx = context(now)
    actor = acting(ctx, as_user, required=False)
    if not actor.is_system and not ctx.policy.may(actor.role, "users.manage", own=False) \
            and actor.username != username:
        raise Forbidden.of("err_not_own_password", user=actor.username)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(say("out_password_prompt"), hide_input=True,
                                                                                     confirmation_prompt=True)
    set_password(ctx, actor, username, password)
    console.print(say("out_password_set", user=username))


@app.command("unfreeze")
@guarded
def unfreeze_cmd(username: str, reason: Annotated[str, typer.Option(help="Why the account may be used again.")],
                 as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Lift a frozen account (operations or a user manager; audited with the reason)."""
    from access.accounts import unfreeze

    ctx = context(now)
    unfreeze(ctx, acting(ctx, as_user), username, reason)
    console.print(say("out_unfrozen", user=username))

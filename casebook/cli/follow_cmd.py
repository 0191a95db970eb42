"""Following cases from the command line: ``casebook follow KEY``, ``casebook unfollow KEY``, ``casebook
following`` — the same domain functions the case page and the API call (a follower hears of a takedown)."""

from __future__ import annotations

import typer

from casebook.cli.common import AsOpt, JsonOpt, NowOpt, acting, console, context, guarded, print_json


@guarded
def follow_cmd(key: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Follow a case you may read (you are told if it is taken down)."""
    from notifications.follows import follow

    ctx = context(now)
    new = follow(ctx, acting(ctx, as_user), key)
    console.print(f"following {key}" if new else f"already following {key}", highlight=False)


@guarded
def unfollow_cmd(key: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Stop following a case."""
    from notifications.follows import unfollow

    ctx = context(now)
    gone = unfollow(ctx, acting(ctx, as_user), key)
    console.print(f"no longer following {key}" if gone else f"not following {key}", highlight=False)


@guarded
def following_cmd(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The cases you follow."""
    from notifications.follows import followed

    ctx = context(now)
    keys = followed(ctx, acting(ctx, as_user))
    if json_out:
        print_json(keys)
        return
    console.print("\n".join(keys) if keys else "you follow no case", highlight=False)


def register(app: typer.Typer) -> None:
    """``follow``, ``unfollow`` and ``following`` as top-level commands."""
    app.command("follow")(follow_cmd)
    app.command("unfollow")(unfollow_cmd)
    app.command("following")(following_cmd)

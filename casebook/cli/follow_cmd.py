"""Following cases from the command line: ``casebook follow KEY``, ``casebook unfollow KEY``, ``casebook
following`` — the same domain functions the case page and the API call (a follower hears of a takedown)."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import AsOpt, JsonOpt, NowOpt, acting, console, context, guarded, print_json, say


@guarded
def follow_cmd(key: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Follow a case you may read (you are told if it is taken down)."""
    from notifications.follows import follow

    ctx = context(now)
    new = follow(ctx, acting(ctx, as_user), key)
    console.print(say("out_following" if new else "out_already_following", case=key), highlight=False)


@guarded
def unfollow_cmd(key: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Stop following a case."""
    from notifications.follows import unfollow

    ctx = context(now)
    gone = unfollow(ctx, acting(ctx, as_user), key)
    console.print(say("out_unfollowed" if gone else "out_not_following", case=key), highlight=False)


@guarded
def following_cmd(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The cases you follow."""
    from notifications.follows import followed

    ctx = context(now)
    keys = followed(ctx, acting(ctx, as_user))
    if json_out:
        print_json(keys)
        return
    console.print("\n".join(keys) if keys else say("out_follow_none"), highlight=False)


@guarded
def interests_cmd(set_to: Annotated[str | None, typer.Option(
        "--set", help="Scenarios of interest, separated by commas ('' for every scenario).")] = None,
                  as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Show or set the scenarios your weekly scenario pack is narrowed to (none chosen: every scenario)."""
    from notifications.preferences import preferences, set_scenarios

    ctx = context(now)
    actor = acting(ctx, as_user)
    chosen = set_scenarios(ctx, actor, set_to) if set_to is not None else preferences(ctx, actor)["scenarios"]
    if json_out:
        print_json(chosen)
        return
    console.print(", ".join(chosen) if chosen else say("out_every_scenario"), highlight=False)


def register(app: typer.Typer) -> None:
    """``follow``, ``unfollow``, ``following`` and ``interests`` as top-level commands."""
    app.command("follow")(follow_cmd)
    app.command("unfollow")(unfollow_cmd)
    app.command("following")(following_cmd)
    app.command("interests")(interests_cmd)

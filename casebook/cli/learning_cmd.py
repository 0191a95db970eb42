"""``casebook learning``: the acting user's learning tasks and their confirmation, the case-of-the-day opt-in,
a department head's view of progress, and assigning a user's path by hand (the daily flow does it for new users)."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import (acting, AsOpt, console, context, guarded, JsonOpt, label, NowOpt, print_json, say,
                                 table as cli_table)
app = typer.Typer(no_args_is_help=True, help="Learning paths, learning tasks, progress and the case of the day.")


@app.command("mine")
@guarded
def mine(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The acting user's learning tasks in path order (titles at their tier)."""
    from library.learning import my_learning

    ctx = context(now)
    tasks = my_learning(ctx, acting(ctx, as_user))
    if json_out:
        print_json([t.as_json(ctx.clock.tz) for t in tasks])
        return
    if not tasks:
        console.print(say("out_no_learning"))
        return
    table = cli_table("task", "position", "case", "title", "due", "opened", "status")
    for t in tasks:
        table.add_row(str(t.id), str(t.position), t.case, t.title, t.due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d"),
                      say("cli_yes") if t.opened else say("cli_no"), label(ctx, t.status, "status_"))
    console.print(table)


@app.command("confirm")
@guarded
def confirm(case: Annotated[str, typer.Argument(help="The case key of the learning task (e.g. CB-000001).")],
            as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Confirm a learning task whose case you opened (``casebook case show KEY`` counts as opening it)."""
    from library.learning import confirm_case

    ctx = context(now)
    new = confirm_case(ctx, acting(ctx, as_user), case)
    console.print(say("out_learning_done" if new else "out_learning_already", case=case))


@app.command("progress")
@guarded
def progress(as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Learning progress of the learners you look after (your department for department-scoped roles)."""
    from library.learning import team_progress

    ctx = context(now)
    rows = team_progress(ctx, acting(ctx, as_user))
    if json_out:
        print_json([r.as_json(ctx.clock.tz) for r in rows])
        return
    table = cli_table("learner", "department", "done", "overdue", "next_due")
    for r in rows:
        table.add_row(r.username, label(ctx, r.department), f"{r.done}/{r.total}", str(r.overdue),
                      r.next_due.astimezone(ctx.clock.tz).strftime("%Y-%m-%d") if r.next_due else "")
    console.print(table if rows else say("out_no_team_learning"))


@app.command("assign")
@guarded
def assign(username: Annotated[str, typer.Argument(help="The user who gets their role's path.")],
           as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Give a user their role's learning path now (as a user manager or operations; adds only what is missing)."""
    from casebook.core.errors import Forbidden
    from library.learning import assign_path

    ctx = context(now)
    actor = acting(ctx, as_user, required=False)
    if not actor.is_system and not ctx.policy.may(actor.role, "users.manage", own=False) \
            and actor.role != ctx.policy.doc.operations_role:
        raise Forbidden.of("err_may_not_assign_paths", role=actor.role)
    console.print(say("out_learning_assigned", user=username, count=assign_path(ctx, username, by=actor.username)))


@app.command("check")
@guarded
def check(now: NowOpt = None) -> None:
    """Check the policy's listed path cases against the store (exit 2 naming each one that cannot be offered)."""
    from casebook.core.errors import InvalidInput
    from library.learning import path_problems

    ctx = context(now)
    problems = path_problems(ctx)
    if problems:
        raise InvalidInput(problems, "learning paths")
    console.print(say("out_paths_ok"))


@app.command("case-of-day")
@guarded
def case_of_day(enable: Annotated[bool | None, typer.Option("--on/--off", help="Opt in or out.")] = None,
                as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Show (or with --on/--off change) the acting user's case-of-the-day opt-in and today's case."""
    from library.learning import case_of_day_enabled, set_case_of_day, todays_case

    ctx = context(now)
    actor = acting(ctx, as_user)
    enabled = case_of_day_enabled(ctx, actor) if enable is None else set_case_of_day(ctx, actor, enable)
    today = todays_case(ctx, actor)
    onoff = say("out_on" if enabled else "out_off")
    console.print(say("out_case_of_day_today", onoff=onoff, case=today.key, title=today.title) if today
                  else say("out_case_of_day", onoff=onoff))

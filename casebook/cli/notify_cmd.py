"""``casebook notifications …``: preferences and the outbox."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from casebook.cli.common import (AsOpt, JsonOpt, NowOpt, acting, console, context, guarded, label, print_json, say,
                                 table as cli_table)
from casebook.core.errors import InvalidInput, Problem
from notifications.models import OutboxMessage, Preference
from casebook.core.locales import LOCALES

app = typer.Typer(no_args_is_help=True, help="Notification preferences and the outbox.")


@app.command("prefs")
@guarded
def prefs(channel: Annotated[str | None, typer.Option(help="email, chat or both")] = None,
          mode: Annotated[str | None, typer.Option(help="instant or digest")] = None,
          quiet: Annotated[str | None, typer.Option(help="Quiet hours HH:MM-HH:MM, or 'off'.")] = None,
          locale: Annotated[str | None, typer.Option(help="zh-Hant, zh-Hans or en")] = None,
          chat_url: Annotated[str | None, typer.Option(help="An apprise URL (wecombot://…, dingtalk://…).")] = None,
          as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Show or change the acting user's preferences."""
    import re

    from notifications.channels import check_channels

    ctx = context(now)
    actor = acting(ctx, as_user)
    problems = []
    if channel is not None and channel not in ("email", "chat", "both"):
        problems.append(Problem.of("--channel", "err_channel_option"))
    if mode is not None and mode not in ("instant", "digest"):
        problems.append(Problem.of("--mode", "err_mode_option"))
    if quiet is not None and quiet != "off" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", quiet):
        problems.append(Problem.of("--quiet", "err_quiet_option"))
    if locale is not None and locale not in LOCALES:
        problems.append(Problem.of("--locale", "err_locale_option"))
    if problems:
        raise InvalidInput(problems, "preferences")
    if chat_url is not None:
        check_channels(ctx.settings, [("--chat-url", chat_url)])
    with ctx.sessions.begin() as session:
        pref = session.get(Preference, actor.username) or Preference(username=actor.username, channel="email",
                                                                    mode=ctx.policy.doc.notifications.default_mode)
        session.add(pref)
        if channel:
            pref.channel = channel
        if mode:
            pref.mode = mode
        if quiet:
            pref.quiet_start, pref.quiet_end = (None, None) if quiet == "off" else quiet.split("-")
        if locale:
            pref.locale = locale
        if chat_url is not None:
            pref.chat_url = chat_url
        data = {"user": actor.username, "channel": pref.channel, "mode": pref.mode, "locale": pref.locale,
                "quiet": f"{pref.quiet_start}-{pref.quiet_end}" if pref.quiet_start else None,
                "chat": bool(pref.chat_url)}
    if json_out:
        print_json(data)
        return
    shown = {"channel": label(ctx, data["channel"], "channel_"), "mode": label(ctx, data["mode"], "mode_"),
             "chat": say("cli_yes") if data["chat"] else say("cli_no")}
    for name, value in data.items():
        console.print(f"{say('col_' + name)}: {shown.get(name, value) or '-'}", highlight=False)


@app.command("outbox")
@guarded
def outbox(status: Annotated[str | None, typer.Option(help="pending, sending, sent, dead, digested")] = None,
           limit: int = 50, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The newest outbox rows (operations: what was sent, what is waiting, what died and why)."""
    ctx = context(now)
    t = OutboxMessage.__table__
    stmt = select(t.c.key, t.c.status, t.c.attempts, t.c.next_attempt_at, t.c.last_error).order_by(t.c.id.desc())
    if status:
        stmt = stmt.where(t.c.status == status)
    with ctx.engine.connect() as conn:
        rows = conn.execute(stmt.limit(limit)).all()
    data = [{"key": r.key, "status": r.status, "attempts": r.attempts,
             "next_attempt_at": r.next_attempt_at.isoformat(), "error": r.last_error} for r in rows]
    if json_out:
        print_json(data)
        return
    table = cli_table("key", "status", "attempts", "error")
    for d in data:
        table.add_row(d["key"], d["status"], str(d["attempts"]), (d["error"] or "")[:60])
    console.print(table)

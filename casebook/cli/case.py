"""``casebook case …``: capture, edit, submit, fire events, show, history, allowed events."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from casebook.cli.common import (acting, AsOpt, cli_locale, console, context, guarded, JsonOpt, label, NowOpt,
                                 print_json, read_document, say, table as cli_table)

app = typer.Typer(no_args_is_help=True, help="Capture and move cases through their lifecycle.")

FileOpt = Annotated[str, typer.Option("--file", "-f", help="YAML or JSON document ('-' for stdin).")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (required to return, reject, withdraw, retire).")]


@app.command("new")
@guarded
def new(file: FileOpt, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Capture a new case as a draft from a YAML or JSON document."""
    from lifecycle.service import CaseService

    ctx = context(now)
    raw = read_document(file, ctx)
    key = CaseService(ctx).create(acting(ctx, as_user), raw)
    console.print(say("out_case_created", case=key))


@app.command("edit")
@guarded
def edit(key: str, file: FileOpt, note: Annotated[str | None, typer.Option(help="What changed.")] = None,
         as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Change fields of a case; saved as a new version."""
    from lifecycle.service import CaseService

    ctx = context(now)
    number = CaseService(ctx).edit(acting(ctx, as_user), key, read_document(file, ctx), note=note)
    console.print(say("out_case_saved", case=key, number=number))


def _fire(key: str, event: str, reason: str | None, as_user: str | None, now: str | None) -> None:
    from lifecycle.service import CaseService

    ctx = context(now)
    state = CaseService(ctx).fire(acting(ctx, as_user), key, event, reason=reason)
    console.print(say("out_case_fired", case=key, event=label(ctx, event, "event_"),
                      state=label(ctx, state, "state_")))


@app.command("submit")
@guarded
def submit(key: str, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Submit a draft (or an update) for review; the intake checklist must be complete."""
    _fire(key, "submit", None, as_user, now)


@app.command("transition")
@guarded
def transition(key: str, event: str, reason: ReasonOpt = None, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Fire any lifecycle event (see `case events` for those allowed now)."""
    _fire(key, event, reason, as_user, now)


@app.command("events")
@guarded
def events(key: str, as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Events the acting user may fire on the case now."""
    from lifecycle.service import CaseService

    ctx = context(now)
    allowed = CaseService(ctx).allowed_events(acting(ctx, as_user), key)
    if json_out:
        print_json(allowed)
    else:
        console.print("\n".join(allowed) if allowed else say("out_none"))


@app.command("show")
@guarded
def show(key: str, version: Annotated[int | None, typer.Option(help="A specific version.")] = None,
         published: Annotated[bool, typer.Option(help="The published version.")] = False,
         as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Show a case at the acting user's tier (the user must be allowed to view it)."""
    from lifecycle.document import SECTIONS
    from redaction.render import shown_budget, shown_metric
    from redaction.views import read_case

    ctx = context(now)
    view, audience = read_case(ctx, acting(ctx, as_user), key, via="cli", version=version, published=published)
    if json_out:
        print_json({"key": view.key, "state": view.state, "review_level": view.review_level,
                    "version": view.version_no, "published_version": view.published_version_no,
                    **view.facts, "tier": audience.clearance, "document": view.document})
        return
    doc = view.document
    state = label(ctx, view.state, "state_")
    where = say("out_show_state_published", state=state, number=view.version_no,
                published=view.published_version_no) if view.published_version_no else \
        say("out_show_state", state=state, number=view.version_no)
    console.print(f"[bold]{escape(view.key)}[/] {escape(str(doc.get('title')))}  [dim]{escape(where)}[/]",
                  markup=True)
    facts = {k: label(ctx, doc.get(k)) for k in ("library", "scenario", "outcome", "classification", "department")}
    console.print(say("out_show_facts", **facts, owner=doc.get("owner")), highlight=False)
    budget = doc.get("budget")
    if budget:
        console.print(say("out_show_budget", budget=shown_budget(budget)), highlight=False)
    for metric in doc.get("metrics") or []:
        console.print(f"  {metric.get('name')}: {shown_metric(metric)}", highlight=False)
    for section in SECTIONS:
        text = (doc.get("body") or {}).get(section)
        if text:
            console.print(f"\n[bold]{escape(label(ctx, section))}[/]\n{escape(text)}", highlight=False, markup=True)
    console.print(f"\n[dim]{escape(say('out_show_tier', tier=label(ctx, audience.clearance)))}[/]", highlight=False,
                  markup=True)


@app.command("history")
@guarded
def history(key: str, as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Versions and lifecycle events of a case."""
    from redaction.views import shown_history

    ctx = context(now)
    versions, events_ = shown_history(ctx, acting(ctx, as_user), key)
    if json_out:
        print_json({"versions": [v | {"at": v["at"].isoformat()} for v in versions],
                    "events": [e | {"at": e["at"].isoformat()} for e in events_]})
        return
    from casebook.core.reasons import render as render_reason

    table = cli_table("when", "who", "what", "state")
    for e in events_:
        state = (e["after"] or {}).get("state", "")
        why = (e["details"] or {}).get("reason")   # rendered at the reader's tier already; a coded one in words
        what = e["action"] + (f" · {render_reason(why, cli_locale())}" if isinstance(why, str) and why else "")
        table.add_row(e["at"].astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M"), e["actor"], what,
                      label(ctx, state, "state_") if state else "")
    console.print(table)
    console.print(say("out_versions", count=len(versions)))


@app.command("list")
@guarded
def list_cases(state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
               as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """List the cases the acting user may read (key, state, library, department, title at the user's tier)."""
    from redaction.views import listed_cases

    ctx = context(now)
    rows = listed_cases(ctx, acting(ctx, as_user), state=state)
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print(say("cli_no_cases"))
        return
    table = cli_table("key", "state", "library", "department", "title")
    for r in rows:
        table.add_row(r["key"], label(ctx, r["state"], "state_"), label(ctx, r["library"]),
                      label(ctx, r["department"]), r["title"])
    console.print(table)


@app.command("rate")
@guarded
def rate_case(key: str, stars: Annotated[int, typer.Option("--stars", help="1 to the policy's scale.")],
              comment: Annotated[str | None, typer.Option(help="Optional remark.")] = None,
              as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Rate a published case (one rating per reader; a new one replaces the old)."""
    from library.feedback import rate

    ctx = context(now)
    rate(ctx, acting(ctx, as_user), key, stars, comment)
    console.print(say("out_rated", case=key, stars=stars))


@app.command("correct")
@guarded
def correct_case(key: str, text: Annotated[str, typer.Option("--text", help="What is wrong and what it should say.")],
                 as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Ask the owner of a case you may read to correct it (audited; the owner is notified)."""
    from library.feedback import request_correction

    ctx = context(now)
    request_correction(ctx, acting(ctx, as_user), key, text)
    console.print(say("out_correction_sent", case=key))

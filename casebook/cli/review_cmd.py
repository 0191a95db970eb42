"""``casebook review …``: queue, claim, release, reassign, decide, prechecks, due, stats."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from casebook.cli.common import (acting, AsOpt, console, context, figures_table, guarded, JsonOpt, label, NowOpt, print_json,
                                 read_document, say, table as cli_table)
from casebook.core.errors import InvalidInput, NotFound, Problem
from review import decisions, queue
from review.due import due_review_work
from review.prechecks import shown_results
from review.stats import review_stats

app = typer.Typer(no_args_is_help=True, help="Reviewer task queue, decisions, pre-checks and statistics.")


@app.command("queue")
@guarded
def show_queue(as_user: AsOpt = None, json_out: JsonOpt = False, limit: int = 50, now: NowOpt = None) -> None:
    """What the acting user may work on, most urgent first, with SLA status."""
    ctx = context(now)
    items = queue.shown_queue(ctx, acting(ctx, as_user), limit=limit)
    if json_out:
        print_json([i.as_json(ctx.clock.tz) for i in items])
        return
    table = cli_table("task", "case", "level", "status", "due", "sla", "title")
    for i in items:
        table.add_row(str(i.task_id), i.case_key, f"{i.level} {label(ctx, i.level_name)}", label(ctx, i.status, "status_"),
                      i.due_at.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M"), i.sla, i.title)
    console.print(table)


@app.command("claim")
@guarded
def claim(task: Annotated[int | None, typer.Argument(help="Task id; omit with --next.")] = None,
          next_: Annotated[bool, typer.Option("--next", help="Claim the most urgent task I may take.")] = False,
          as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Claim a task exclusively."""
    ctx = context(now)
    actor = acting(ctx, as_user)
    if next_:
        got = queue.claim_next(ctx, actor)
        console.print(say("out_claimed", task=got) if got else say("out_nothing_to_claim"))
        return
    if task is None:
        raise InvalidInput([Problem.of("task", "err_task_or_next")], "command")
    queue.claim(ctx, actor, task)
    console.print(say("out_claimed", task=task))


@app.command("release")
@guarded
def release(task: int, as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Give a claimed task back to its group."""
    ctx = context(now)
    queue.release(ctx, acting(ctx, as_user), task)
    console.print(say("out_released", task=task))


@app.command("reassign")
@guarded
def reassign(task: int, to: Annotated[str, typer.Option("--to", help="The reviewer to hand it to.")],
             as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Hand a task to a named reviewer (operations)."""
    ctx = context(now)
    queue.reassign(ctx, acting(ctx, as_user), task, to)
    console.print(say("out_reassigned", task=task, user=to))


def _pairs(values: list[str], option: str, sep: str) -> list[tuple[str, str]]:
    out, problems = [], []
    for v in values:
        k, found, rest = v.partition(sep)
        if not found or not k.strip() or not rest.strip():
            problems.append(Problem.of(option, "err_name_value", value=v, sep=sep))
        out.append((k.strip(), rest.strip()))
    if problems:
        raise InvalidInput(problems, "decision")
    return out


@app.command("decide")
@guarded
def decide(task: int,
           decision: Annotated[str | None, typer.Option("--decision", help="approve, return or reject.")] = None,
           score: Annotated[list[str], typer.Option("--score", help="criterion=1..4, once per criterion.")] = [],
           reason: Annotated[list[str], typer.Option("--reason", help="section:text (background, goal, strategy, "
                                                                        "execution, data, reflection).")] = [],
           comment: Annotated[str | None, typer.Option(help="Free comment.")] = None,
           file: Annotated[str | None, typer.Option("--file", help="The decision as YAML/JSON instead.")] = None,
           as_user: AsOpt = None, now: NowOpt = None) -> None:
    """Decide a task you hold; a score below the pass mark forces a return."""
    ctx = context(now)
    if file:
        raw = read_document(file, ctx)
    else:
        scores = {}
        for k, v in _pairs(score, "--score", "="):
            try:
                scores[k] = int(v)
            except ValueError:
                raise InvalidInput([Problem.of(f"scores.{k}", "err_whole_number")], "decision") from None
        raw = {"decision": decision, "scores": scores, "comment": comment,
               "reasons": [{"section": k, "text": v} for k, v in _pairs(reason, "--reason", ":")]}
    state = decisions.decide(ctx, acting(ctx, as_user), task, raw)
    console.print(say("out_decided", task=task, decision=label(ctx, raw.get("decision"), "decision_"),
                      state=label(ctx, state, "state_")))


@app.command("prechecks")
@guarded
def prechecks(key: str, as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """The automatic pre-check results of a case's current version (findings at the acting user's tier)."""
    ctx = context(now)
    version, results = shown_results(ctx, acting(ctx, as_user), key, via="cli")
    if not results:
        raise NotFound.of("err_no_prechecks", case=key, version=version)
    if json_out:
        print_json(results)
        return
    for r in results:
        colour = {"pass": "green", "fail": "red" if r["severity"] == "block" else "yellow"}.get(r["status"], "magenta")
        console.print(f"[{colour}]{r['status']:8}[/] {escape(str(r['check']))} ({escape(str(r['severity']))})",
                      markup=True)
        for f in r["findings"]:   # finding texts are case text: never read as rich markup
            where = f.get("field") or f.get("case")
            console.print(f"    - {str(where) + ': ' if where else ''}{f.get('rule', '')}", highlight=False)


@app.command("due")
@guarded
def due(json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Review tasks due soon or overdue now, and who is next in each escalation chain."""
    ctx = context(now)
    with ctx.engine.connect() as conn:
        items = due_review_work(conn, ctx.policy, ctx.calendar, ctx.clock.now())
    rows = [{"task": i.task_id, "case": i.case_key, "level": i.level, "status": i.status, "step": i.step,
             "notify_role": i.notify_role, "notify_department": i.notify_department, "claimed_by": i.claimed_by,
             "due_at": i.due_at.astimezone(ctx.clock.tz).isoformat(),
             "overdue_working_days": i.overdue_working_days} for i in items]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print(say("cli_nothing_due"))
        return
    table = cli_table("task", "case", "level", "status", "next", "overdue_wd")
    for r in rows:
        table.add_row(str(r["task"]), r["case"], str(r["level"]), label(ctx, r["status"], "status_"),
                      r["step"] + (f" ({r['notify_role']})" if r["notify_role"] else ""), str(r["overdue_working_days"]))
    console.print(table)


@app.command("stats")
@guarded
def stats(json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Pass rate, return reasons, cycle time per level, overdue counts."""
    ctx = context(now)
    with ctx.engine.connect() as conn:
        data = review_stats(conn, ctx.clock.now())
    if json_out:
        print_json(data)
        return
    console.print(figures_table(ctx, data), highlight=False)


@app.command("signoff")
@guarded
def signoff_sheet(key: str, as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Level-3 redaction sign-off sheet: the findings and the case at every tier."""
    from redaction.views import record_view
    from review.signoff import sheet

    ctx = context(now)
    actor = acting(ctx, as_user)
    data = sheet(ctx, actor, key)
    record_view(ctx, actor, key, via="cli", details={"version": data["version"], "sheet": "signoff"})
    if json_out:
        print_json(data)
        return
    table = cli_table("field", "type", "span", "text", "score")
    for f in data["findings"]:
        table.add_row(f["field"], f["entity_type"], f"{f['start']}-{f['end']}", f["text"], f"{f['score']:.2f}")
    head = say("out_signoff_head", case=key, version=data["version"], findings=len(data["findings"]),
               overrides=len(data["overrides"]))
    console.print(f"[bold]{escape(head)}[/]", markup=True)
    console.print(table)
    for tier, doc in data["renderings"].items():
        console.print(f"\n[bold]{escape(label(ctx, tier))}[/]", markup=True)
        for section, text in (doc.get("body") or {}).items():
            if text:
                console.print(f"  {label(ctx, section)}: {text}", highlight=False)


@app.command("override")
@guarded
def add_override(key: str,
                 action: Annotated[str, typer.Option("--action", help="add (a missed finding) or remove (a false one).")],
                 field: Annotated[str, typer.Option("--field", help="Text field path, e.g. body.data.")],
                 start: Annotated[int, typer.Option("--start")], end: Annotated[int, typer.Option("--end")],
                 entity: Annotated[str | None, typer.Option("--entity", help="Entity type, for add.")] = None,
                 as_user: AsOpt = None, json_out: JsonOpt = False, now: NowOpt = None) -> None:
    """Correct the detector for the current version; later renderings honour it."""
    from review.signoff import override

    ctx = context(now)
    row = override(ctx, acting(ctx, as_user), key, action=action, field=field, start=start, end=end,
                   entity_type=entity)
    if json_out:
        print_json(row)
        return
    console.print(say("out_override", action=row["action"], entity=row["entity_type"], text=row["text"],
                      field=row["field"], version=row["version_no"]), highlight=False)

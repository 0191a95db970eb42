"""``casebook flows …`` and ``casebook simulate``: scheduled jobs run once, and whole simulated years."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from casebook.cli.common import JsonOpt, NowOpt, console, context, guarded, print_json, say, table as cli_table
from casebook.core.errors import InvalidInput, Problem

app = typer.Typer(no_args_is_help=True, help="Scheduled flows: list them, or run one once at a given time.")


@app.command("list")
@guarded
def list_flows(json_out: JsonOpt = False) -> None:
    """Every flow with its schedule from policy."""
    from flows.registry import JOBS

    ctx = context()
    rows = [{"flow": name, "cron": (ctx.policy.doc.flows.get(name).cron if ctx.policy.doc.flows.get(name) else None),
             "timezone": ctx.policy.doc.timezone, "what": say(f"flow_{name}")} for name in JOBS]
    if json_out:
        print_json(rows)
        return
    table = cli_table("flow", "cron", "what")
    for r in rows:
        table.add_row(r["flow"], r["cron"] or "-", r["what"])
    console.print(table)


@app.command("run")
@guarded
def run_flow(name: str, now: NowOpt = None, json_out: JsonOpt = False,
             prefect: Annotated[bool, typer.Option("--prefect/--direct",
                                                   help="Run as a Prefect flow run (default) or call the job directly.")]
             = True) -> None:
    """One flow, once, at ``--now`` (then delivery of what it queued)."""
    from flows.registry import JOBS, run_job

    if name not in JOBS:
        raise InvalidInput([Problem.of("NAME", "err_one_of_got", allowed=list(JOBS), value=name)], "flow")
    ctx = context(now)
    if prefect:
        from flows.definitions import FLOWS

        counts = FLOWS[name](now=ctx.clock.now().isoformat())
    else:
        counts = run_job(ctx, name)
    ctx.close()
    if json_out:
        print_json(counts)
        return
    console.print(say("out_flow_ran", name=name, time=ctx.clock.now().isoformat(),
                      counts=", ".join(f"{k} {v}" for k, v in counts.items())))


def simulate_cmd(cases: Annotated[int, typer.Option(min=1)] = 50, days: Annotated[int, typer.Option(min=1)] = 120,
                 seed: int = 1, json_out: JsonOpt = False,
                 db_url: Annotated[str | None, typer.Option(help="Store for the run (default: a temporary SQLite).")]
                 = None) -> None:
    """N synthetic cases over D days through the flows' own job functions, mail to a local SMTP sink."""
    from casebook.simulate import simulate

    if json_out:
        result = simulate(cases, days, seed, db_url=db_url)
        print_json(result)
        return
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(say("out_simulating"), total=days)
        result = simulate(cases, days, seed, db_url=db_url, progress=lambda d: progress.update(bar, completed=d))
    table = cli_table("measure", "count")
    for k, v in result.items():
        table.add_row(k, str(v))
    console.print(table)


def deploy_cmd(pool: Annotated[str, typer.Option(help="The Prefect work pool (created if missing).")] = "casebook",
               pool_type: Annotated[str, typer.Option("--pool-type", help="Work pool type.")] = "process",
               json_out: JsonOpt = False) -> None:
    """Register every flow as a Prefect deployment (schedule from policy) in a work pool; idempotent."""
    import os

    from flows.deploy import deploy

    if not os.environ.get("PREFECT_API_URL"):
        raise InvalidInput([Problem.of("PREFECT_API_URL", "err_prefect_url")], "environment")
    ctx = context()
    outcomes = deploy(ctx.policy, pool, pool_type)
    ctx.close()
    if json_out:
        print_json([{"name": o.name, "action": o.action} for o in outcomes])
        return
    for o in outcomes:
        console.print(f"{o.action:<10} {o.name}", highlight=False)

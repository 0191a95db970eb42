"""``casebook init`` and ``casebook up``."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook import store
from casebook.cli.common import NowOpt, console, context, guarded, label, say


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("up")(up)
    app.command("seed")(seed_cmd)


@guarded
def seed_cmd(cases: Annotated[int, typer.Option("--cases", min=1, max=5_000_000, help="How many cases to add.")],
             seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same library.")]
             = 1,
             published_share: Annotated[float, typer.Option("--published-share", min=0.0, max=1.0,
                                                            help="Share of cases with a live published version.")]
             = 0.8,
             now: NowOpt = None) -> None:
    """Fill the store with a synthetic library (every state, all libraries, zh-Hant/zh-Hans/en text with figures
    and names to redact, versions, ratings, views, users for every role) for benchmarks, demos and sizing."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from casebook.seed import seed as run_seed

    ctx = context(now)
    store.upgrade(ctx.engine)
    start = time.perf_counter()
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(say("out_seeding"), total=cases)
        result = run_seed(ctx, cases, seed, published_share=published_share,
                          progress=lambda n: bar.advance(task, n))
    console.print(say("out_seeded", cases=result.cases, seconds=f"{time.perf_counter() - start:.0f}",
                      versions=result.versions, events=result.events, views=result.views, ratings=result.ratings))
    states = ", ".join(f"{label(ctx, s, 'state_')} {n}" for s, n in sorted(result.states.items()))
    console.print(say("out_seed_states", states=states), highlight=False)
    console.print(say("out_seed_users"))
    for role, names in result.users.items():
        console.print(f"  {role}: {', '.join(names)}", highlight=False)
    ctx.close()


@guarded
def init(now: NowOpt = None) -> None:
    """Create the store, or upgrade it to the newest schema."""
    ctx = context(now)
    before, after = store.upgrade(ctx.engine)
    _ = ctx.audit  # creates the audit key on first use
    what = "created" if before is None else ("upgraded" if before != after else "current")
    console.print(say(f"out_store_{what}", url=ctx.engine.url.render_as_string(hide_password=True), schema=after))
    ctx.close()


@guarded
def up(demo: Annotated[bool, typer.Option(help="Load sample users and cases (written for Casebook).")] = False,
       flows: Annotated[bool, typer.Option("--flows/--no-flows", help="Serve the scheduled flows here.")] = True,
       web: Annotated[bool, typer.Option("--web/--no-web", help="Serve the pages and the API here.")] = True,
       host: Annotated[str, typer.Option(help="Web address to bind.")] = "127.0.0.1",
       port: Annotated[int, typer.Option(help="Web port.")] = 8080,
       now: NowOpt = None) -> None:
    """The main job on embedded defaults: migrate, check channels, serve the web pages and API and every flow
    on its policy schedule (Prefect's local API) until Ctrl-C."""
    from notifications.channels import check_channels

    ctx = context(now)
    before, after = store.upgrade(ctx.engine)
    _ = ctx.audit
    check_channels(ctx.settings)
    console.print(say("out_store_ready", url=ctx.engine.url.render_as_string(hide_password=True), schema=after,
                      policy=ctx.policy.version_tag, timezone=ctx.policy.doc.timezone))
    if demo:
        from casebook.demo import load_demo

        console.print(say("out_demo_data", summary=load_demo(ctx)))
    server = None
    if web:
        from casebook.web.serving import serve, serve_in_background, worker_count

        console.print(say("out_serving_web", host=host, port=port, workers=worker_count(ctx.settings)),
                      highlight=False)
        if not flows:
            console.print(say("out_no_flows"))
            console.print(say("out_ctrl_c"), highlight=False)
            serve(ctx, host, port, now=now)
            console.print(say("out_stopped"))
            return
        server = serve_in_background(ctx, host, port, now=now)
    if not flows:
        console.print(say("out_no_flows"))
        ctx.close()
        return
    try:
        from prefect import serve as serve_flows

        from flows.definitions import deployments

        deps = deployments(ctx.policy)
        console.print(say("out_serving_flows", count=len(deps), names=", ".join(d.name for d in deps)),
                      highlight=False)
        console.print(say("out_ctrl_c"), highlight=False)
        serve_flows(*deps, print_starting_message=False)
    except KeyboardInterrupt:
        pass
    finally:  # the web server process (and its workers) stop with the flows, whatever stopped those
        if server is not None:
            server.terminate()
            server.join()
    ctx.close()
    console.print(say("out_stopped"))

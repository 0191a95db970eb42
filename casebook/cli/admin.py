"""``casebook init`` and ``casebook up``."""

from __future__ import annotations

import typer

from casebook import store
from casebook.cli.common import NowOpt, console, context, guarded


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("up")(up)


@guarded
def init(now: NowOpt = None) -> None:
    """Create the store, or upgrade it to the newest schema."""
    ctx = context(now)
    before, after = store.upgrade(ctx.engine)
    _ = ctx.audit  # creates the audit key on first use
    what = "created" if before is None else ("upgraded" if before != after else "already current")
    console.print(f"store {what}: {ctx.engine.url.render_as_string(hide_password=True)} (schema {after})")
    ctx.close()


@guarded
def up(now: NowOpt = None) -> None:
    """Run the main job on embedded defaults: migrate the store and report what is served."""
    ctx = context(now)
    before, after = store.upgrade(ctx.engine)
    _ = ctx.audit
    console.print(f"[bold]Casebook[/] store ready: {ctx.engine.url.render_as_string(hide_password=True)} "
                  f"(schema {after}), policy {ctx.policy.version_tag}, timezone {ctx.policy.doc.timezone}")
    console.print("serving: command line (case, review and audit commands). "
                  "Scheduled flows and the web/API are not part of this build yet.")
    ctx.close()

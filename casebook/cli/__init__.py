"""The ``casebook`` command line (typer + rich)."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli import (access_cmd, admin, audit_cmd, case, flows_cmd, library_cmd, lifecycle_cmd, notify_cmd, partners_cmd,
                          policy_cmd,
                          redact_cmd, reports_cmd, review_cmd, tasks_cmd, users_cmd)
from casebook.cli import follow_cmd, keys_cmd, learning_cmd, links_cmd
from casebook.cli.common import guarded, set_root_now

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Casebook: lifecycle and workflow engine of the marketing case library.")
app.add_typer(case.app, name="case")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(users_cmd.app, name="users")
app.add_typer(lifecycle_cmd.app, name="lifecycle")
app.add_typer(review_cmd.app, name="review")
app.add_typer(redact_cmd.app, name="redact")
app.add_typer(flows_cmd.app, name="flows")
app.add_typer(notify_cmd.app, name="notifications")
app.add_typer(library_cmd.app, name="library")
app.add_typer(access_cmd.app, name="access")
app.add_typer(partners_cmd.app, name="partners")
app.add_typer(tasks_cmd.app, name="tasks")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(learning_cmd.app, name="learning")
app.add_typer(links_cmd.app, name="links")
app.add_typer(reports_cmd.app, name="reports")
app.command("simulate")(guarded(flows_cmd.simulate_cmd))
app.command("deploy")(guarded(flows_cmd.deploy_cmd))
admin.register(app)
follow_cmd.register(app)


@app.callback()
def root(now: Annotated[str | None, typer.Option("--now", help="Simulated current time for every command.")] = None
         ) -> None:
    """Casebook keeps every case moving through capture, review, publish, update, expiry and archive."""
    set_root_now(now)


def main() -> None:
    import os
    import sys

    import structlog

    from casebook.core.settings import get_settings

    # Log lines go to stderr, so --json output on stdout stays parseable.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

    # Prefect keeps its local state (ephemeral API database, served flows) beside Casebook's own store.
    prefect_home = os.environ.setdefault("PREFECT_HOME", str(get_settings().home / "prefect"))
    try:
        os.makedirs(prefect_home, exist_ok=True)
    except OSError:
        pass  # Prefect reports an unusable home itself when it is first needed
    app()

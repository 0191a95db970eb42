"""The ``casebook`` command line (typer + rich).

Start-up is kept fast: this module imports typer and nothing of the domain. Each command group (``case``,
``review`` ...) lives in its own module, imported only when that command runs; ``casebook --help`` lists them
from the table below without importing any. Presidio, Prefect, FastAPI and uvicorn are imported only by the
commands that use them.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

#: name -> (module, attribute, one-line help). The attribute is a ``typer.Typer`` (a command group) or a
#: command function (already ``guarded``, or wrapped when loaded).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "case": ("casebook.cli.case", "app", "Capture and move cases through their lifecycle."),
    "audit": ("casebook.cli.audit_cmd", "app", "The tamper-evident audit log and access log."),
    "policy": ("casebook.cli.policy_cmd", "app", "Show or check policy files."),
    "users": ("casebook.cli.users_cmd", "app", "Manage users (roles, departments and clearances come from policy)."),
    "lifecycle": ("casebook.cli.lifecycle_cmd", "app", "The case lifecycle state machine."),
    "review": ("casebook.cli.review_cmd", "app", "Reviewer task queue, decisions, pre-checks and statistics."),
    "redact": ("casebook.cli.redact_cmd", "app",
               "Find sensitive figures and personal data; render text for a tier."),
    "flows": ("casebook.cli.flows_cmd", "app", "Scheduled flows: list them, or run one once at a given time."),
    "notifications": ("casebook.cli.notify_cmd", "app", "Notification preferences and the outbox."),
    "library": ("casebook.cli.library_cmd", "app", "Search the library, export a case, read the dashboard."),
    "access": ("casebook.cli.access_cmd", "app", "Ask for access to a case, or decide a request."),
    "partners": ("casebook.cli.partners_cmd", "app", "Partner API keys (public cases at the public tier only)."),
    "tasks": ("casebook.cli.tasks_cmd", "app", "Everything a person owes, and closing work items."),
    "keys": ("casebook.cli.keys_cmd", "app", "Data keys of encryption at rest (confidential case content)."),
    "learning": ("casebook.cli.learning_cmd", "app", "Learning paths, learning tasks, progress and the case of the day."),
    "links": ("casebook.cli.links_cmd", "app", "Links between cases."),
    "reports": ("casebook.cli.reports_cmd", "app", "Monthly usage and effect reports, reuse marks and NPS answers."),
    "follow": ("casebook.cli.follow_cmd", "follow_cmd", "Follow a case: hear of its takedown and updates."),
    "unfollow": ("casebook.cli.follow_cmd", "unfollow_cmd", "Stop following a case."),
    "following": ("casebook.cli.follow_cmd", "following_cmd", "The cases you follow."),
    "interests": ("casebook.cli.follow_cmd", "interests_cmd", "Your scenarios of interest for the weekly pack."),
    "simulate": ("casebook.cli.flows_cmd", "simulate_cmd",
                 "Synthetic cases over simulated days through the flows' own jobs."),
    "deploy": ("casebook.cli.flows_cmd", "deploy_cmd", "Register every flow as a Prefect deployment on its policy schedule."),
    "init": ("casebook.cli.admin", "init", "Create the store, or upgrade it to the newest schema."),
    "up": ("casebook.cli.admin", "up", "Migrate, check channels, serve the web, the API and every flow."),
    "seed": ("casebook.cli.admin", "seed_cmd", "Fill the store with a synthetic library for benchmarks and demos."),
}


def load_command(name: str) -> Any:
    """The click command of ``name``, importing its module now."""
    module_name, attribute, short = LAZY_COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)   # a group even when it holds one command (as add_typer made it)
    else:
        from casebook.cli.common import guarded

        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name)(target if getattr(target, "__guarded__", False) else guarded(target))
        command = typer.main.get_command(single)
    command.name = name
    command.help = command.help or short
    return command


class LazyGroup(TyperGroup):
    """The root group: subcommands are imported on first use; help lists them without importing."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(dict.fromkeys([*super().list_commands(ctx), *LAZY_COMMANDS]))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        if self._listing:   # the root's help needs only the name and one line
            return TyperCommand(name=cmd_name, help=LAZY_COMMANDS[cmd_name][2])
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Casebook: lifecycle and workflow engine of the marketing case library.")


@app.callback()
def root(now: Annotated[str | None, typer.Option("--now", help="Simulated current time for every command.")] = None
         ) -> None:
    """Casebook keeps every case moving through capture, review, publish, update, expiry and archive."""
    from casebook.cli.common import set_root_now

    set_root_now(now)


class _LogsToStderr:
    """Configures structlog the moment something imports it, to print to stderr (so --json output on stdout
    stays parseable), without importing it at start-up: most commands never log."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "structlog":
            return None
        import importlib.util
        import sys

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            module.configure(logger_factory=module.PrintLoggerFactory(sys.stderr))

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def main() -> None:
    import os
    import sys

    if "structlog" in sys.modules:
        sys.modules["structlog"].configure(logger_factory=sys.modules["structlog"].PrintLoggerFactory(sys.stderr))
    else:
        sys.meta_path.insert(0, _LogsToStderr())

    # Prefect keeps its local state (ephemeral API database, served flows) beside Casebook's own store.
    if "PREFECT_HOME" not in os.environ:
        home = os.environ.get("CASEBOOK_HOME") or os.path.join(os.path.expanduser("~"), ".casebook")
        os.environ["PREFECT_HOME"] = os.path.join(home, "prefect")
    try:
        os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
    except OSError:
        pass  # Prefect reports an unusable home itself when it is first needed
    app()

"""``casebook lifecycle diagram``."""

from __future__ import annotations

from typing import Annotated

import typer

from casebook.cli.common import guarded
from casebook.core.errors import InvalidInput, Problem
from casebook.core.settings import get_settings
from lifecycle.diagram import mermaid
from policies.loader import load_policy

app = typer.Typer(no_args_is_help=True, help="The case lifecycle state machine.")


@app.command("diagram")
@guarded
def diagram(fmt: Annotated[str, typer.Option("--format", help="Only 'mermaid' for now.")] = "mermaid") -> None:
    """Print the machine as the policy in force configures it."""
    if fmt != "mermaid":
        raise InvalidInput([Problem.of("--format", "err_format_mermaid")], "option")
    typer.echo(mermaid(load_policy(get_settings().policy_path)), nl=False)

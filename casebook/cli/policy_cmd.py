"""``casebook policy show|check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
import yaml

from casebook.cli.common import JsonOpt, console, err_console, guarded, print_json, say
from casebook.core.settings import get_settings
from policies.loader import check_policy_file, load_policy

app = typer.Typer(no_args_is_help=True, help="Show or check policy files.")


@app.command("show")
@guarded
def show(json_out: JsonOpt = False) -> None:
    """Print the policy in force with its version tag."""
    path = get_settings().policy_path
    policy = load_policy(path)
    data = policy.doc.model_dump(mode="json")
    if json_out:
        print_json({"path": str(path), "version_tag": policy.version_tag, "policy": data})
        return
    console.print(say("out_policy_header", tag=policy.version_tag, path=path), highlight=False)
    console.print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), highlight=False)


@app.command("check")
def check(file: Annotated[Path, typer.Argument(help="Policy file to check.")]) -> None:
    """List every problem of a policy file with its path; exit 2 if there is any."""
    problems = check_policy_file(file)
    if problems:
        err_console.print(f"[bold red]{escape(say('out_policy_problems', file=file, count=len(problems)))}[/]",
                          markup=True)
        for p in problems:
            err_console.print(f"  - [bold]{escape(p.field)}[/]: {escape(p.rule)}", highlight=False, markup=True)
        raise typer.Exit(2)
    console.print(say("out_policy_ok", file=file, tag=load_policy(file).version_tag))

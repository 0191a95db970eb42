"""What every command shares: the context, the acting user, error reporting and output."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console

from casebook.assembly import build_context
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, IllegalTransition, InvalidInput, Problem
from casebook.core.users import Actor, get_user

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

NowOpt = Annotated[str | None, typer.Option("--now", envvar="CASEBOOK_NOW",
                                            help="Act as if it were this ISO time (policy timezone if naive).")]
AsOpt = Annotated[str | None, typer.Option("--as", envvar="CASEBOOK_USER", help="The acting user.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn Casebook refusals into a clear message on stderr and the refusal's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            err_console.print(f"[bold red]error:[/] invalid {str(exc).split(':', 1)[0].removeprefix('invalid ')}")
            for p in exc.problems:
                err_console.print(f"  - [bold]{p.field}[/]: {p.rule}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except IllegalTransition as exc:
            err_console.print(f"[bold red]refused:[/] {exc}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except CasebookError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


_root_now: dict[str, str | None] = {"now": None}


def set_root_now(now: str | None) -> None:
    _root_now["now"] = now


def context(now: str | None = None) -> AppContext:
    return build_context(now=now or _root_now["now"])


def acting(ctx: AppContext, username: str | None, *, required: bool = True) -> Actor:
    """The ``--as`` user; without one, admin commands act as the local operator (audited as such)."""
    if username:
        with ctx.sessions() as session:
            return Actor.of(get_user(session, username))
    if required:
        raise InvalidInput([Problem("--as", "is required: name the acting user (or set CASEBOOK_USER)")], "command")
    return Actor.system(f"local:{getpass.getuser()}")


def read_input(file: str, option: str) -> str:
    """UTF-8 text from a path or '-' (stdin); an unreadable source is refused naming the option."""
    try:
        return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([Problem(option, f"cannot be read: {exc.strerror}")], "input") from None
    except UnicodeDecodeError:
        raise InvalidInput([Problem(option, "must be UTF-8 text")], "input") from None


def read_document(file: str) -> Any:
    """Read a YAML or JSON document from a path or '-' (stdin); a parse error names line and column."""
    text = read_input(file, "--file")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else file
        raise InvalidInput([Problem(where, f"not valid YAML or JSON: {getattr(exc, 'problem', exc)}")],
                           "input") from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")

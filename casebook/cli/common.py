"""What every command shares: the context, the acting user, error reporting and output."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from datetime import timezone
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from rich.console import Console

from casebook.assembly import build_context
from casebook.core.clock import parse_now
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


def _problems(exc: InvalidInput) -> None:
    err_console.print(f"[bold red]error:[/] invalid {str(exc).split(':', 1)[0].removeprefix('invalid ')}")
    for p in exc.problems:
        err_console.print(f"  - [bold]{p.field}[/]: {p.rule}", highlight=False)


#: Exit code of a failure that is not the user's input or a refusal (the store cannot be reached, a bug).
INTERNAL_ERROR = 7


def guarded(fn: F) -> F:
    """Turn Casebook refusals into a clear message on stderr and the refusal's exit code.

    No command ever shows a traceback: a setting or value the store cannot hold is invalid input (exit 2),
    anything unexpected is one line naming what failed (exit 7).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            _problems(exc)
            raise typer.Exit(exc.exit_code) from None
        except IllegalTransition as exc:
            err_console.print(f"[bold red]refused:[/] {exc}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except CasebookError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except ValidationError as exc:  # settings from the environment (CASEBOOK_*) that break their rules
            _problems(InvalidInput([Problem(".".join(str(p) for p in e["loc"]) or "(settings)",
                                            str(e["msg"]).removeprefix("Value error, ")) for e in exc.errors()],
                                   "settings"))
            raise typer.Exit(InvalidInput.exit_code) from None
        except DataError as exc:  # a value the database cannot hold (out of range, NUL): rolled back
            _problems(InvalidInput([Problem("(value)", f"cannot be stored: {str(exc.orig).splitlines()[0]}")]))
            raise typer.Exit(InvalidInput.exit_code) from None
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
            err_console.print(f"[bold red]error:[/] {fn.__name__.replace('_', ' ')} failed: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                              highlight=False)
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


_root_now: dict[str, str | None] = {"now": None}


def set_root_now(now: str | None) -> None:
    """Remember the root ``--now``; a value that is not a time is refused at once (exit 2), whichever command."""
    if now is not None:
        try:
            parse_now(now, timezone.utc)
        except InvalidInput as exc:
            _problems(exc)
            raise typer.Exit(exc.exit_code) from None
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


def read_input(file: str, option: str, *, max_bytes: int | None = None) -> str:
    """UTF-8 text from a path or '-' (stdin); an unreadable or (past ``max_bytes``) too large source is refused
    naming the option, without reading more than one byte past the limit."""
    try:
        if file == "-":
            data = sys.stdin.buffer.read(max_bytes + 1) if max_bytes is not None else sys.stdin.buffer.read()
        else:
            with Path(file).open("rb") as fh:
                data = fh.read(max_bytes + 1) if max_bytes is not None else fh.read()
    except OSError as exc:
        raise InvalidInput([Problem(option, f"cannot be read: {exc.strerror}")], "input") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise InvalidInput([Problem(option, f"is larger than {max_bytes} bytes (policy limits.case_file_max_bytes)")],
                           "input")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([Problem(option, "must be UTF-8 text")], "input") from None


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few aliased lines can expand into millions of values."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def read_document(file: str, ctx: AppContext | None = None) -> Any:
    """Read a YAML or JSON document from a path or '-' (stdin); a parse error names line and column. With a
    context, the file may be no larger than the policy's ``limits.case_file_max_bytes``."""
    limit = ctx.policy.doc.limits.case_file_max_bytes if ctx is not None else None
    text = read_input(file, "--file", max_bytes=limit)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else file
        raise InvalidInput([Problem(where, f"not valid YAML or JSON: {getattr(exc, 'problem', exc)}")],
                           "input") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidInput([Problem(file, f"not a usable document: {exc}")], "input") from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")

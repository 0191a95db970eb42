"""What every command shares: the context, the acting user, error reporting and output."""

from __future__ import annotations

import re

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from casebook.core.errors import CasebookError, IllegalTransition, InvalidInput, Problem

if TYPE_CHECKING:   # imported where used: the CLI starts without the store, pydantic or YAML loaded
    from casebook.core.context import AppContext
    from casebook.core.users import Actor

# Plain by default: what is printed is mostly data (case titles and texts, names, a user's input echoed in an
# error), which rich would otherwise read as markup ("[/b]" fails as a closing tag). The few styled lines pass
# markup=True and escape what they interpolate.
console = Console(soft_wrap=True, markup=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False)

NowOpt = Annotated[str | None, typer.Option("--now", envvar="CASEBOOK_NOW",
                                            help="Act as if it were this ISO time (policy timezone if naive).")]
AsOpt = Annotated[str | None, typer.Option("--as", envvar="CASEBOOK_USER", help="The acting user.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

F = TypeVar("F", bound=Callable[..., Any])


# -- the reader's language ----------------------------------------------------------------------------------

_state: dict[str, Any] = {"now": None, "locale": None}


def _env_locale() -> str:
    """The shell's language: LC_ALL, LC_MESSAGES or LANG; the POSIX locale (C) and unknown languages are English."""
    from casebook.core.i18n import normalise_locale

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            tag = value.split(".")[0].replace("_", "-").lower()
            return normalise_locale(tag) if tag.startswith(("zh", "en")) else "en"
    return "en"


def cli_locale() -> str:
    """The language of CLI messages: ``CASEBOOK_LOCALE`` if set (an explicit choice for this shell), else the
    acting (``--as``) user's own locale, else the shell's (LC_ALL / LC_MESSAGES / LANG)."""
    from casebook.core.i18n import normalise_locale

    explicit = os.environ.get("CASEBOOK_LOCALE")
    if explicit:
        return normalise_locale(explicit)
    return _state["locale"] or _env_locale()


def say(key: str, /, **params: Any) -> str:
    """A CLI message (``messages/cli.yaml``) in the reader's language."""
    from casebook.core.i18n import gettext

    return gettext(key, cli_locale(), **params)


def label(ctx: AppContext, code: Any, prefix: str = "") -> str:
    """A code as a reader reads it, in the CLI's language: the policy's label (library, role, department, level,
    scenario ...), else the catalog's (``prefix`` + code, e.g. ``status_`` or ``kind_``), else the code itself."""
    from casebook.core.i18n import label as label_in

    return label_in(ctx.policy, code, cli_locale(), prefix)


def table(*columns: str) -> Any:
    """A table whose headings are in the CLI's language (catalog ``col_<column>``; ``casebook/core/messages/
    cli_columns.yaml``). JSON output (``--json``) keeps the codes: it is for programs."""
    from rich.table import Table
    from rich.text import Text

    class PlainTable(Table):
        """String cells shown as written: a case title such as "新品[/b]" is text, not the terminal's markup
        (rich would read it as a closing tag and refuse to print the table)."""

        def add_row(self, *cells: Any, **options: Any) -> None:
            super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **options)

    return PlainTable(*(say(f"col_{c}") for c in columns))


def figures_table(ctx: AppContext, data: dict[str, Any], prefix: str = "rpt.fig.") -> Any:
    """Named figures (a dashboard's, review statistics) as a two-column table in the CLI's language: each name
    by its catalog label (``prefix`` + name) or policy label, nested counts as labelled pairs, no raw code names."""
    from casebook.core.i18n import has

    def name(code: Any) -> str:
        """The figure's label, else the code's: a policy label (level, role, section ...), a state, a reuse
        outcome or a catalog word such as a decision; the code itself only when none knows it."""
        code = str(code)
        numbered = re.fullmatch(r"(\d+) (\w+)", code)        # "2 department_head": a level and who holds it
        if numbered:
            return f"{numbered[1]} {name(numbered[2])}"
        if not ctx.policy.label(code, cli_locale()):
            for key in (prefix + code, "state_" + code, "rpt.outcome." + code):
                if has(key):
                    return say(key)
        return label(ctx, code)   # the policy's label, else the catalog's word for the code, else the code

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "; ".join(f"{name(k)}: {value(x)}" for k, x in v.items()) or "-"
        if isinstance(v, (list, tuple)):
            return ", ".join(f"{x[0]} ({x[1]})" if isinstance(x, (list, tuple)) and len(x) == 2 else str(x)
                             for x in v) or "-"
        return "-" if v is None else str(v)

    shown = table("figure", "value")
    for key, v in data.items():
        shown.add_row(name(key), value(v))
    return shown


def _remember_locale_of(username: str | None) -> None:
    """Best effort, for an error raised before ``acting`` ran: the ``--as`` user's locale from the store."""
    if not username or _state["locale"]:
        return
    try:
        from sqlalchemy import select

        from casebook.assembly import build_context
        from casebook.core.users import User

        ctx = build_context(now=_state["now"])
        with ctx.engine.connect() as conn:
            locale = conn.execute(select(User.__table__.c.locale)
                                  .where(User.__table__.c.username == username)).scalar_one_or_none()
        _state["locale"] = locale
    except Exception:  # noqa: BLE001 - no store, no such user: the shell's language then
        pass


def _problems(exc: InvalidInput) -> None:
    from casebook.core.errors import field_label, text

    locale = cli_locale()
    if locale == "en":
        err_console.print(f"[bold red]{escape(say('cli_error'))}[/] {escape(say('cli_invalid', what=exc.what))}",
                          highlight=False, markup=True)
        for p in exc.problems:
            err_console.print(f"  - [bold]{escape(p.field)}[/]: {escape(p.rule)}", highlight=False, markup=True)
        return
    from casebook.core.i18n import gettext

    err_console.print(f"[bold red]{escape(say('cli_error'))}[/]{escape(gettext('err_invalid_input', locale))}",
                      highlight=False, markup=True)
    for p in exc.problems:
        label = field_label(p.field, locale)
        where = p.field if label == p.field else f"{p.field}（{label}）"
        rule = text(p.key, p.params, locale) if p.key else p.rule
        err_console.print(f"  - [bold]{escape(where)}[/]：{escape(rule)}", highlight=False, markup=True)


def print_error(message: str, label: str = "cli_error") -> None:
    """One error line on stderr: the label (error:, refused:) in the reader's language, then ``message``."""
    gap = " " if cli_locale() == "en" else ""
    err_console.print(f"[bold red]{escape(say(label))}[/]{gap}{escape(message)}", highlight=False, markup=True)


def report(exc: CasebookError) -> None:
    """A refusal on stderr in the reader's language (English keeps the error's own text)."""
    from casebook.core.errors import describe

    if isinstance(exc, InvalidInput):
        _problems(exc)
        return
    locale = cli_locale()
    print_error(str(exc) if locale == "en" else describe(exc, locale),
                "cli_refused" if isinstance(exc, IllegalTransition) else "cli_error")


def _store_missing(exc: Exception) -> bool:
    """Whether a database error says the schema is not there (a store never initialised)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return type(exc).__name__ in ("OperationalError", "ProgrammingError") and (
        "no such table" in text or ("relation" in text and "does not exist" in text))


#: Exit code of a failure that is not the user's input or a refusal (the store cannot be reached, a bug).
INTERNAL_ERROR = 7
#: Exit code when the store has not been created yet (run ``casebook init`` or ``casebook up``).
NO_STORE = 8


def guarded(fn: F) -> F:
    """Turn Casebook refusals into a clear message on stderr, in the reader's language, and the refusal's
    exit code.

    No command ever shows a traceback: a setting or value the store cannot hold is invalid input (exit 2), a
    store never initialised says to run ``casebook init`` (exit 8), anything unexpected is one line naming what
    failed (exit 7).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        try:
            return fn(*args, **kwargs)
        except CasebookError as exc:
            _remember_locale_of(kwargs.get("as_user"))
            report(exc)
            raise typer.Exit(exc.exit_code) from None
        except ValidationError as exc:  # settings from the environment (CASEBOOK_*) that break their rules
            from casebook.core.errors import pydantic_problems

            _problems(InvalidInput(pydantic_problems(exc.errors(), default="(settings)"), "settings"))
            raise typer.Exit(InvalidInput.exit_code) from None
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
            from sqlalchemy.exc import DataError

            if isinstance(exc, DataError):  # a value the database cannot hold (out of range, NUL): rolled back
                _problems(InvalidInput([Problem.of("(value)", "err_cannot_store_value",
                                                   detail=str(exc.orig).splitlines()[0])]))
                raise typer.Exit(InvalidInput.exit_code) from None
            if _store_missing(exc):
                print_error(say("cli_store_missing"))
                raise typer.Exit(NO_STORE) from None
            detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            print_error(say("cli_failed", what=fn.__name__.replace("_", " "), detail=detail))
            raise typer.Exit(INTERNAL_ERROR) from None

    wrapper.__guarded__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def set_root_now(now: str | None) -> None:
    """Remember the root ``--now``; a value that is not a time is refused at once (exit 2), whichever command."""
    if now is not None:
        from casebook.core.clock import parse_now

        try:
            parse_now(now, timezone.utc)
        except InvalidInput as exc:
            _problems(exc)
            raise typer.Exit(exc.exit_code) from None
    _state["now"] = now
    _state["locale"] = None


def context(now: str | None = None) -> AppContext:
    from casebook.assembly import build_context

    return build_context(now=now or _state["now"])


def acting(ctx: AppContext, username: str | None, *, required: bool = True) -> Actor:
    """The ``--as`` user; without one, admin commands act as the local operator (audited as such)."""
    from casebook.core.users import Actor, get_user_row

    if username:
        with ctx.engine.connect() as conn:
            user = get_user_row(conn, username)
        _state["locale"] = user.locale   # messages from here on speak the acting user's language
        return Actor.of(user)
    if required:
        raise InvalidInput([Problem.of("--as", "err_as_required")], "command")
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
        raise InvalidInput([Problem.of(option, "err_cannot_read", detail=exc.strerror)], "input") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise InvalidInput([Problem.of(option, "err_file_too_large", max=max_bytes)], "input")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([Problem.of(option, "err_utf8")], "input") from None


def _no_alias_loader() -> Any:
    """A YAML loader without anchors and aliases: a few aliased lines can expand into millions of values."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)

    return NoAliasLoader


def read_document(file: str, ctx: AppContext | None = None) -> Any:
    """Read a YAML or JSON document from a path or '-' (stdin); a parse error names line and column. With a
    context, the file may be no larger than the policy's ``limits.case_file_max_bytes``."""
    limit = ctx.policy.doc.limits.case_file_max_bytes if ctx is not None else None
    import yaml

    text = read_input(file, "--file", max_bytes=limit)
    try:
        return yaml.load(text, Loader=_no_alias_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = say("out_line_column", line=mark.line + 1, column=mark.column + 1) if mark else file
        raise InvalidInput([Problem.of(where, "err_not_yaml_json", detail=getattr(exc, "problem", exc))],
                           "input") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidInput([Problem.of(file, "err_not_usable_document", detail=exc)], "input") from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")

"""Every word the command line prints comes from the message catalog.

An AST walk over ``casebook/cli``: a string literal (or the literal parts of an f-string) holding a letter, passed
to something that shows it to the user (print, console.print, typer.echo, a prompt, a progress bar's task, a
table's headings, a refusal's rule) is a message that skipped the catalog, so it would print in English (or in
one language) whatever the reader's language. Rich markup (``[bold]``, ``[/]``) is not text. Arguments built by a
call (``say("key")``, ``label(...)``, ``", ".join(...)``) are the catalog's or the data's, not literals.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "casebook" / "cli"

#: Callables whose positional arguments reach the reader: name -> the positions shown (None: all of them). A
#: refusal's first argument is the field it names, print_error's second the catalog key of its label.
SINKS: dict[str, tuple[int, ...] | None] = {
    "print": None, "echo": None, "secho": None, "prompt": None, "confirm": None, "add_task": (0,),
    "print_error": (0,), "Table": None, "Problem": (1,), "write": None}
_MARKUP = re.compile(r"\[/?[a-z ]*\]")
_LETTER = re.compile(r"[^\W\d_]")


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literals(node: ast.AST) -> list[str]:
    """The literal text in an argument expression, not looking inside calls (their result is not a literal)."""
    if isinstance(node, (ast.Call, ast.Compare)):   # a comparison's operands are never shown
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    out: list[str] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FormattedValue):
            continue
        out.extend(_literals(child))
    return out


def bare_literals(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: text`` of every literal with a letter that a sink shows to the user."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or _name(node.func) not in SINKS:
            continue
        shown = SINKS[_name(node.func)]
        for arg in (node.args if shown is None else [a for i, a in enumerate(node.args) if i in shown]):
            for text in _literals(arg):
                if _LETTER.search(_MARKUP.sub("", text)):
                    found.append(f"{filename}:{node.lineno}: {text!r}")
    return found


def test_no_cli_module_prints_a_literal() -> None:
    found = [hit for path in sorted(CLI.glob("*.py"))
             for hit in bare_literals(path.read_text(encoding="utf-8"), path.name)]
    assert not found, "messages not from the catalog (casebook/core/messages/*.yaml):\n" + "\n".join(found)


def test_the_rule_finds_literals_and_passes_catalog_messages() -> None:
    bad = '''
console.print("nothing owed right now")
console.print(table if rows else f"{case}: no linked cases")
err_console.print(f"[bold red]{f.part}: broken[/]")
typer.prompt("password", hide_input=True)
bar.add_task("seeding cases", total=3)
Table("field", "type")
problems.append(Problem("--tag", "must be facet:value"))
'''
    assert {int(hit.split(":")[1]) for hit in bare_literals(bad)} == set(range(2, 9))  # every line found
    good = '''
console.print(say("out_nothing_owed"))
console.print(table if rows else say("out_no_links", case=case))
console.print(f"[bold]{key}[/] {title}  [dim]{where}[/]", highlight=False)
console.print(f"  {name}: {value}", style="dim")
console.print("\\n".join(keys) if keys else say("out_follow_none"))
console.print(f"{f.start:>6}-{f.end:<6} {f.entity_type:<14}")
cli_table("field", "type")
Problem.of("--tag", "err_facet_value", value=v)
'''
    assert bare_literals(good) == []


def test_commands_speak_the_readers_language(monkeypatch) -> None:
    """The same message in each locale, chosen by CASEBOOK_LOCALE (the en text is the one tests and scripts read)."""
    from casebook.cli.common import say

    seen = {}
    for locale in ("zh-Hant", "zh-Hans", "en"):
        monkeypatch.setenv("CASEBOOK_LOCALE", locale)
        seen[locale] = say("out_nothing_owed")
    assert seen["en"] == "nothing owed right now"
    assert seen["zh-Hant"] == "目前沒有待辦事項" and seen["zh-Hans"] == "目前没有待办事项"

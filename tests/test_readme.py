"""The README runs as written: its first-session block, command by command, on a fresh store with the real CLI.

The block is the fenced ``bash`` block between ``<!-- first-session:begin -->`` and ``<!-- first-session:end -->``.
Each command must exit 0. ``casebook`` commands run in this process (the same Typer app the console script
runs; spawning a Python per command would take minutes on a busy machine); ``export`` lines and the left side of
a pipe run in bash, so ``$(mktemp -d)``, ``printf`` and ``echo`` behave as they do in a terminal. Assertions are
on exit codes and facts (keys, states, JSON), not on the wording of messages.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def first_session() -> list[str]:
    """The commands of the README's first-session block, continuation lines joined, blank lines dropped."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- first-session:begin -->\s*```bash\n(.*?)```\s*<!-- first-session:end -->", text, re.S)
    assert match, "README.md has no fenced first-session block between the first-session markers"
    commands, current = [], ""
    for line in match.group(1).splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            commands.append(current.strip())
        current = ""
    return commands


def _words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    return [os.path.expandvars(w) for w in lexer]


def test_the_block_is_a_complete_session() -> None:
    """What a first session must show: capture, submit, three levels with claims, a return and resubmission,
    pre-checks, sign-off and an override, publishing, search, and the audit chain verified."""
    commands = first_session()
    joined = "\n".join(commands)
    for needed in ("casebook init", "casebook case new", "casebook case submit", "casebook review prechecks",
                   "resubmit", "casebook review signoff", "casebook review override", "monthly_publish",
                   "casebook library search", "casebook audit verify"):
        assert needed in joined, needed
    assert len(re.findall(r"review claim", joined)) >= 4 and len(re.findall(r"review decide", joined)) >= 4


def test_readme_layout_and_links_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert "(in progress)" not in text and "../shared" not in text and "SPEC.md" not in text
    layout = text[text.index("## Layout"):text.index("## Design notes")]
    for package in ("lifecycle", "review", "redaction", "notifications", "access", "library", "flows", "policies"):
        assert f"{package}/" in layout and (ROOT / package / "__init__.py").exists(), package
    for path in re.findall(r"(casebook/[\w/]+\.py)", layout):
        assert (ROOT / path).exists(), path
    assert "docs/" in text
    for role in ("author", "reviewer", "department-head", "committee", "operations", "manager"):
        for lang in ("zh-Hant", "zh-Hans", "en"):
            guide = ROOT / "docs" / lang / f"{role}.md"
            assert guide.exists() and guide.stat().st_size > 1500, guide


@pytest.mark.slow
def test_first_session_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from casebook.cli import app

    for name in list(os.environ):
        if name.startswith("CASEBOOK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TMPDIR", str(tmp_path))                       # $(mktemp -d) makes the store in here
    monkeypatch.setenv("CASEBOOK_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("CASEBOOK_PASSWORD_MEMORY_KIB", "1024")
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    outputs: dict[str, str] = {}

    def casebook(words: list[str], stdin: bytes | None = None) -> str:
        result = runner.invoke(app, words, input=stdin, catch_exceptions=False)
        assert result.exit_code == 0, f"casebook {' '.join(words)} exited {result.exit_code}:\n" \
                                      f"{result.stdout}\n{result.stderr}"
        return result.stdout

    for command in first_session():
        if command.startswith("export "):
            done = subprocess.run(["bash", "-c", f"{command}\nenv -0"], capture_output=True, check=True,
                                  env=dict(os.environ))
            for pair in done.stdout.split(b"\0"):
                name, _, value = pair.decode().partition("=")
                if name and os.environ.get(name) != value:
                    monkeypatch.setenv(name, value)
            continue
        head, pipe, tail = command.rpartition("| casebook ")
        if pipe:
            left = subprocess.run(["bash", "-c", head], capture_output=True, check=True, env=dict(os.environ))
            outputs[command] = casebook(_words(tail), left.stdout)
            continue
        words = _words(command)
        assert words[0] == "casebook", f"not a casebook command: {command}"
        outputs[command] = casebook(words[1:])

    home = Path(os.environ["CASEBOOK_HOME"])
    assert home.is_relative_to(tmp_path) and (home / "checkpoint.json").exists()
    created = next(out for cmd, out in outputs.items() if cmd.startswith("casebook case new"))
    assert "CB-000001" in created
    shown = json.loads(casebook(["case", "show", "CB-000001", "--as", "head", "--json"]))
    assert shown["state"] == "published" and shown["version"] == 2
    found = json.loads(casebook(["library", "search", "快閃", "--as", "head", "--json"]))
    items = found["results"] if isinstance(found, dict) else found
    assert [item["key"] for item in items] == ["CB-000001"]
    history = json.loads(casebook(["case", "history", "CB-000001", "--as", "alice", "--json"]))
    actions = [e["action"] for e in history["events"]]
    assert actions.count("case.approve") == 3 and "case.return_for_revision" in actions and "case.release" in actions
    assert "redaction.add" in actions                       # the committee's override, audited on the case
    verified = json.loads(casebook(["audit", "verify", "--json"]))
    assert verified["ok"] is True

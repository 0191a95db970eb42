"""The CLI starts fast: importing it, or running ``--help``, loads no heavy library; commands load only what
they use (Presidio, spaCy, Prefect, FastAPI, uvicorn, jieba, LAC where used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("presidio_analyzer", "presidio_anonymizer", "prefect", "fastapi", "uvicorn", "spacy", "jieba", "LAC",
         "cn2an")


def _loaded_after(code: str, home: Path) -> dict[str, bool]:
    """Which heavy modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    env = os.environ | {"PYTHONPATH": str(ROOT), "CASEBOOK_HOME": str(home), "CASEBOOK_LOCALE": "en"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    loaded = _loaded_after("import casebook.cli", tmp_path)
    assert not any(loaded.values()), loaded


def test_help_lists_every_command_without_loading_them(tmp_path: Path) -> None:
    code = ("import sys\nfrom casebook.cli import app, LAZY_COMMANDS\nfrom typer.testing import CliRunner\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "assert all(name in r.output for name in LAZY_COMMANDS), r.output\n"
            "assert not any(m.startswith('casebook.cli.') and m != 'casebook.cli.common' for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('casebook.cli'))")
    loaded = _loaded_after(code, tmp_path)
    assert not any(loaded.values()), loaded


def test_case_list_loads_no_analyzer_prefect_or_web(tmp_path: Path) -> None:
    code = ("from casebook.cli import app\nfrom typer.testing import CliRunner\nr = CliRunner()\n"
            "assert r.invoke(app, ['init']).exit_code == 0\n"
            "assert r.invoke(app, ['users', 'add', 'ann', '--role', 'staff', '--department', 'm']).exit_code == 0\n"
            "out = r.invoke(app, ['case', 'list', '--as', 'ann'])\nassert out.exit_code == 0, out.output\n"
            "assert 'no cases you may see' in out.output, out.output")
    loaded = _loaded_after(code, tmp_path)
    assert not any(loaded.values()), loaded


#: What ``case list`` no longer loads either: the YAML parser (the policy's parsed cache answers), the outbox's
#: templates and the search index (their hooks import them on first use).
READ_PATH_SPARES = ("yaml", "jinja2", "notifications.takedown", "library.index")


def _casebook(home: Path, *args: str, policy: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(ROOT), "CASEBOOK_HOME": str(home), "CASEBOOK_LOCALE": "en"}
    if policy is not None:
        env["CASEBOOK_POLICY"] = str(policy)
    return subprocess.run([sys.executable, "-m", "casebook", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_case_list_on_a_store_in_use_spares_the_yaml_parser_and_the_write_path(tmp_path: Path) -> None:
    assert _casebook(tmp_path, "init").returncode == 0
    assert _casebook(tmp_path, "users", "add", "ann", "--role", "staff", "--department", "m").returncode == 0
    spared = (*HEAVY, *READ_PATH_SPARES)
    probe = ("from casebook.cli import app\nfrom typer.testing import CliRunner\n"
             "out = CliRunner().invoke(app, ['case', 'list', '--as', 'ann', '--json'])\n"
             "assert out.exit_code == 0 and out.stdout.strip() == '[]', out.output\n"
             f"import json, sys\nprint(json.dumps({{m: m in sys.modules for m in {spared!r}}}))")
    env = os.environ | {"PYTHONPATH": str(ROOT), "CASEBOOK_HOME": str(tmp_path), "CASEBOOK_LOCALE": "en"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(loaded.values()), loaded


def test_a_changed_policy_file_is_validated_again_though_its_parse_is_cached(tmp_path: Path) -> None:
    """The parsed policy is kept under CASEBOOK_HOME; a command after an invalid edit is refused all the same."""
    policy = tmp_path / "policy.yaml"
    text = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
    policy.write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    assert _casebook(home, "init", policy=policy).returncode == 0
    assert _casebook(home, "users", "add", "ann", "--role", "staff", "--department", "m", policy=policy).returncode == 0
    assert list((home / "cache").glob("policy-*")), "the first commands kept the parsed policy"
    assert _casebook(home, "case", "list", "--as", "ann", policy=policy).returncode == 0
    policy.write_text(text.replace("clearance: internal", "clearance: top-secret", 1), encoding="utf-8")
    out = _casebook(home, "case", "list", "--as", "ann", policy=policy)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "unknown clearance 'top-secret'" in out.stderr and "Traceback" not in out.stderr
    policy.write_text(text, encoding="utf-8")
    out = _casebook(home, "case", "list", "--as", "ann", policy=policy)
    assert out.returncode == 0 and "no cases you may see" in out.stdout, out.stderr


def test_every_listed_command_loads_and_its_help_matches(tmp_path: Path) -> None:
    """The table that lists commands without importing them names real commands (each loads and has help)."""
    from casebook.cli import LAZY_COMMANDS, load_command

    for name in LAZY_COMMANDS:
        command = load_command(name)
        assert command.name == name and command.help, name


def test_uninitialised_store_says_to_run_init(tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT), "CASEBOOK_HOME": str(tmp_path / "fresh"), "CASEBOOK_LOCALE": "en"}
    out = subprocess.run([sys.executable, "-m", "casebook", "case", "list", "--as", "ann"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 8, out.stderr
    assert "casebook init" in out.stderr and "Traceback" not in out.stderr + out.stdout
    out = subprocess.run([sys.executable, "-m", "casebook", "case", "list", "--as", "ann"], capture_output=True,
                         text=True, env=env | {"CASEBOOK_LOCALE": "zh-Hant"}, cwd=ROOT, timeout=300)
    assert out.returncode == 8 and "請先執行 `casebook init`" in out.stderr


def test_review_due_says_nothing_is_due_and_every_flow_is_described(cli) -> None:
    from flows.registry import JOBS

    code, out, err = cli("review", "due")
    assert code == 0 and "nothing is due for review" in out, err
    code, out, err = cli("flows", "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["flow"] for r in rows] == list(JOBS)
    assert all(len(r["what"]) > 20 for r in rows), rows


def test_review_prechecks_of_a_submitted_case(cli, ctx, full_case) -> None:
    from lifecycle.service import CaseService
    from tests.conftest import make_users

    users = make_users(ctx, ("ann", "staff", "marketing"), ("spec", "case_specialist", "ops"))
    doc = full_case | {"body": full_case["body"] | {"data": "預算[bold]五十萬元[/],聯繫人張偉經理"}}
    key = CaseService(ctx).create(users["ann"], doc)
    CaseService(ctx).fire(users["ann"], key, "submit")
    code, out, err = cli("review", "prechecks", key, "--as", "spec")
    assert code == 0, err
    assert "mandatory_fields" in out and "sensitive_information" in out
    code, out, err = cli("review", "prechecks", "CB-999999", "--as", "spec")
    assert code == 5 and "no case 'CB-999999'" in err

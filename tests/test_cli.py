"""The command line as users and scripts meet it: exit codes, listed problems, nothing written on refusal."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import func, select

from casebook.core import audit
from lifecycle.models import Case
from tests.conftest import FIXTURES


def counts(ctx) -> tuple[int, int]:
    with ctx.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Case)),
                s.scalar(select(func.count()).select_from(audit.AuditEvent)))


def add_team(cli) -> None:
    for args in (["alice", "--role", "staff", "--department", "marketing"],
                 ["spec", "--role", "case_specialist", "--department", "ops"],
                 ["head", "--role", "department_head", "--department", "marketing"],
                 ["com", "--role", "committee_member", "--department", "committee"]):
        code, _, err = cli("users", "add", *args)
        assert code == 0, err


def test_three_levels_from_the_cli(cli, ctx, monkeypatch) -> None:
    monkeypatch.setenv("CASEBOOK_NOW", "2026-10-20T10:00")              # every command at one simulated time
    add_team(cli)
    code, out, _ = cli("case", "new", "--file", str(FIXTURES / "case_full.yaml"), "--as", "alice")
    assert code == 0 and "CB-000001" in out
    assert cli("case", "submit", "CB-000001", "--as", "alice", "--now", "2026-10-20T09:00")[0] == 0
    code, out, _ = cli("case", "events", "CB-000001", "--as", "spec", "--json")
    assert json.loads(out) == ["approve", "return_for_revision", "reject"]
    code, _, err = cli("case", "transition", "CB-000001", "approve", "--as", "spec")
    assert code == 3 and "made on a claimed task" in err                # decisions go through the queue
    scores = ["--score", "authenticity=4", "--score", "completeness=4", "--score", "inspiration=3",
              "--score", "operability=4"]
    for level, who in ((1, "spec"), (2, "head"), (3, "com")):
        code, out, err = cli("review", "queue", "--as", who, "--json")
        [item] = json.loads(out)
        assert (item["case"], item["level"], item["sla"]) == ("CB-000001", level, "on_time")
        assert cli("review", "queue", "--as", "alice", "--json")[1].strip() == "[]"   # never one's own case
        assert cli("review", "claim", str(item["task"]), "--as", who)[0] == 0
        code, _, err = cli("review", "decide", str(item["task"]), "--decision", "approve", *scores, "--as", who)
        assert code == 0, err
    code, _, err = cli("case", "transition", "CB-000001", "approve", "--as", "alice")
    assert code == 3 and "state 'approved'" in err
    code, out, _ = cli("case", "show", "CB-000001", "--as", "alice", "--json")
    shown = json.loads(out)
    assert shown["state"] == "approved" and shown["document"]["owner"] == "alice"
    code, out, _ = cli("case", "history", "CB-000001", "--as", "alice", "--json")
    events = json.loads(out)["events"]
    assert [e["action"] for e in events] == ["case.create", "case.submit", "case.start_review", "case.approve",
                                             "case.approve", "case.approve"]   # views go to the access log (h-audit)
    submit = events[1]
    assert submit["at"].startswith("2026-10-20T01:00")                 # --now, read in Asia/Shanghai
    assert cli("audit", "verify")[0] == 0
    code, out, _ = cli("review", "stats", "--json")
    stats = json.loads(out)
    assert stats["decisions"] == 3 and stats["pass_rate"] == 1.0


def test_illegal_transition_exit_code_names_state_and_allowed(cli, ctx) -> None:
    add_team(cli)
    cli("case", "new", "--file", str(FIXTURES / "case_full.yaml"), "--as", "alice")
    before = counts(ctx)
    code, _, err = cli("case", "transition", "CB-000001", "archive", "--as", "alice")
    assert code == 3
    assert "state 'draft'" in err and "allowed now: submit, withdraw" in err
    assert counts(ctx) == before


def test_bad_input_lists_every_problem_and_writes_nothing(cli, ctx, tmp_path: Path) -> None:
    add_team(cli)
    before = counts(ctx)
    doc = yaml.safe_load((FIXTURES / "case_full.yaml").read_text(encoding="utf-8"))
    doc.pop("title")
    doc["library"] = "gossip"
    doc["colour"] = "red"
    doc["project_end"] = "2026-08-01"
    doc["tags"]["budget_scale"] = ["enormous"]
    doc["budget"] = {"amount": -5}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    code, _, err = cli("case", "new", "--file", str(path), "--as", "alice")
    assert code == 2
    for expected in ("title: is required", "library: must be one of", "colour: unknown field",
                     "project_end: must not be before project_start", "tags.budget_scale.0: must be one of",
                     "budget.amount"):
        assert expected in err, (expected, err)
    assert counts(ctx) == before


def test_broken_yaml_and_missing_file(cli, ctx, tmp_path: Path) -> None:
    add_team(cli)
    before = counts(ctx)
    path = tmp_path / "broken.yaml"
    path.write_text("title: [unclosed\nlibrary: x\n", encoding="utf-8")
    code, _, err = cli("case", "new", "--file", str(path), "--as", "alice")
    assert code == 2 and "line " in err
    code, _, err = cli("case", "new", "--file", str(tmp_path / "nope.yaml"), "--as", "alice")
    assert code == 2 and "--file: cannot be read" in err
    code, _, err = cli("case", "new", "--file", "-", "--as", "alice", input='{"title": "t"}')
    assert code == 2 and "library: is required" in err
    code, _, err = cli("case", "new", "--file", str(FIXTURES / "case_full.yaml"))
    assert code == 2 and "--as: is required" in err
    assert counts(ctx) == before


def test_users_add_rejects_bad_records(cli, ctx) -> None:
    code, _, err = cli("users", "add", "x y", "--role", "wizard", "--department", "", "--locale", "fr",
                       "--clearance", "cosmic")
    assert code == 2
    for field in ("username", "role", "department", "locale", "clearance"):
        assert f"{field}:" in err
    add_team(cli)
    code, _, err = cli("users", "add", "alice", "--role", "staff", "--department", "marketing")
    assert code == 2 and "already exists" in err
    code, _, err = cli("users", "add", "eve", "--role", "intern", "--department", "x", "--clearance", "confidential")
    assert code == 2 and "must not exceed the role's clearance" in err
    code, _, err = cli("users", "add", "eve", "--role", "intern", "--department", "x", "--as", "alice")
    assert code == 6 and "users.manage" in err
    code, out, _ = cli("users", "list", "--json")
    assert {u["username"] for u in json.loads(out)} == {"alice", "spec", "head", "com"}


def test_diagram_and_init(cli, ctx) -> None:
    code, out, _ = cli("lifecycle", "diagram", "--format", "mermaid")
    assert code == 0 and out.startswith("stateDiagram-v2")
    assert "review_l3 --> approved : approve [at_last_level]" in out
    assert "to_" not in out                                             # no auto transitions back door
    code, out, _ = cli("init")
    assert code == 0 and "already current" in out
    assert cli("lifecycle", "diagram", "--format", "dot")[0] == 2


def test_library_and_access_twins_of_the_pages(cli, ctx, monkeypatch) -> None:
    """Search, export, dashboard, corrections and access requests answer from the CLI as from page and API."""
    monkeypatch.setenv("CASEBOOK_NOW", "2026-10-20T10:00")
    add_team(cli)
    for args in (["ops", "--role", "operations", "--department", "ops"],
                 ["bob", "--role", "staff", "--department", "sales"]):
        assert cli("users", "add", *args)[0] == 0
    assert cli("case", "new", "--file", str(FIXTURES / "case_full.yaml"), "--as", "alice")[0] == 0
    code, out, _ = cli("library", "search", "--as", "alice", "--json")
    assert code == 0 and json.loads(out) == {"total": 0, "page": 1, "per_page": 20, "results": []}  # not a draft
    code, out, _ = cli("library", "export", "CB-000001", "--as", "alice")
    assert code == 0 and out.startswith("#")
    code, _, err = cli("library", "export", "CB-000001", "--as", "bob")     # internal case, other department
    assert code == 6, err
    code, _, err = cli("library", "dashboard", "--as", "alice", "--json")
    assert code == 6 and "reports.read" in err
    code, out, _ = cli("library", "dashboard", "--as", "ops", "--json")
    assert code == 0 and "by_state" in json.loads(out)
    assert cli("case", "submit", "CB-000001", "--as", "alice")[0] == 0      # a draft is its owner's alone
    # Not yet published: read by the working-version readers (security.working_version_roles), not every head.
    code, out, err = cli("case", "correct", "CB-000001", "--text", "the budget figure is last year's", "--as", "com")
    assert code == 0, err
    code, _, err = cli("case", "correct", "CB-000001", "--text", "", "--as", "com")
    assert code == 2 and "text" in err
    with ctx.sessions() as s:
        actions = [e.action for e in audit.events_for(s, "case", "CB-000001")]
    assert actions.count("case.correction_request") == 1
    code, _, err = cli("access", "decide", "999", "--approve", "--as", "head")
    assert code == 5, err


def test_case_show_prints_case_text_as_written_not_as_terminal_markup(ctx, full_case, cli) -> None:
    """Square brackets in a case ("[sic]", "[/b]") are text, not the terminal's markup: shown as written."""
    from lifecycle.service import CaseService
    from tests.conftest import make_users

    users = make_users(ctx, ("alice", "staff", "marketing"))
    doc = dict(full_case, body=dict(full_case["body"], reflection="報名頁寫成 [sic] 報名[/b]，下次先校對。"))
    key = CaseService(ctx).create(users["alice"], doc)
    code, out, err = cli("case", "show", key, "--as", "alice")
    assert code == 0, err
    assert "[sic]" in out and "報名[/b]" in out
    CaseService(ctx).edit(users["alice"], key, {"title": "新品首發[/b] 復盤"})
    code, out, err = cli("case", "list", "--as", "alice")             # tables too: a title is a cell's text
    assert code == 0 and "新品首發[/b]" in out, err


def test_brackets_in_a_users_input_do_not_break_the_error_line(cli, ctx) -> None:
    """An error echoing what was typed ("CB-[/b]") is printed as text: a refusal with its exit code, no traceback."""
    from tests.conftest import make_users

    make_users(ctx, ("alice", "staff", "marketing"))
    code, out, err = cli("case", "show", "CB-[/b]", "--as", "alice")
    assert code != 0 and "CB-[/b]" in err and "Traceback" not in out + err and "MarkupError" not in out + err

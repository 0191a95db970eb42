"""Bounds on every input (policy ``limits``), the CLI under bad arguments (exit 2, never a traceback), and CLI
output of case text at the acting user's tier, audited like a page view."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import func, select, text
from typer.main import get_command
from typer.testing import CliRunner

from casebook.cli import app
from casebook.core import audit
from lifecycle.bounds import max_chars
from lifecycle.models import Case, CaseVersion
from lifecycle.service import CaseService
from redaction.stored import store_version
from tests.web_helpers import FIGURE, TITLE, client, people, published_case


@pytest.fixture
def users(ctx):
    return people(ctx)


def _counts(ctx) -> tuple[int, int, int]:
    with ctx.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (Case.__table__, CaseVersion.__table__, audit.AuditEvent.__table__))


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def _fields(response) -> set[str]:
    return {p["field"] for p in response.json()["problems"]}


def test_bounds_refuse_every_absurd_input_naming_the_field_and_writing_nothing(ctx, users, full_case) -> None:
    limits = ctx.policy.doc.limits
    api = client(ctx, "author")
    base = json.loads(_dumps(full_case | {"classification": "public"}))
    before = _counts(ctx)
    raw = _dumps(base | {"budget": {"amount": 0, "currency": "CNY"}}).replace('"amount": 0', '"amount": 1e400')
    cases = {
        "budget.amount": raw,
        "project_end": _dumps(base | {"project_end": "9999-12-31"}),
        "project_start": _dumps(base | {"project_start": str(limits.date_earliest.replace(year=1900))}),
        "metrics.0.value": _dumps(base | {"metrics": [{"name": "x", "value": limits.number_max * 10}]}),
        "title": _dumps(base | {"title": "標" * (max_chars(limits, "title") + 1)}),
        "body.data": _dumps(base | {"body": {"data": "數" * (max_chars(limits, "body.data") + 1)}}),
        "channels": _dumps(base | {"channels": ["wechat"] * (limits.list_max_items + 1)}),
        "(document)": _dumps(base | {"body": {s: "字" * max_chars(limits, f"body.{s}") for s in
                                                  ("background", "goal", "strategy", "execution", "data",
                                                   "reflection")}}),
    }
    for field, body in cases.items():
        r = api.post("/api/v1/cases", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (field, r.status_code, r.text[:200])
        assert field in _fields(r), (field, r.json())
    assert _counts(ctx)[:2] == before[:2]
    key = api.post("/api/v1/cases", json=base).json()["key"]
    r = api.patch(f"/api/v1/cases/{key}", json={"project_end": "9999-12-31"})
    assert r.status_code == 422 and "project_end" in _fields(r)
    assert CaseService(ctx).view(users["author"], key).version_no == 1


def test_an_absurd_stored_figure_never_breaks_a_ranged_view(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    with ctx.engine.begin() as conn:                      # written before the bounds existed
        row = conn.execute(select(CaseVersion.__table__).where(CaseVersion.__table__.c.number == 1)).one()
        doc = row.document | {"budget": {"amount": "1E+400", "currency": "CNY"},
                              "body": row.document["body"] | {"data": "活動預算" + "9" * 401 + "元。"},
                              "metrics": [{"name": "營收", "value": 1e300, "kind": "revenue", "unit": "元"}]}
        conn.execute(CaseVersion.__table__.update().where(CaseVersion.__table__.c.id == row.id), {"document": doc})
        store_version(conn, ctx.policy, row.case_id, 1, doc, "public", now=ctx.clock.now())  # as `redact backfill`
    intern = client(ctx, "intern")                        # public clearance: a range, not the figure
    for path in (f"/api/v1/cases/{key}", f"/api/v1/cases/{key}/export"):
        r = intern.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    assert r.text.count("[amount]") >= 1


def _cli(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=input, env={"CASEBOOK_LOCALE": "en"})
    return result.exit_code, result.output + (repr(result.exception) if result.exception and
                                              not isinstance(result.exception, SystemExit) else "")


def test_cli_bounds_and_case_file_size(ctx, users, full_case, tmp_path) -> None:
    limits = ctx.policy.doc.limits
    before = _counts(ctx)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(full_case | {"project_end": "9999-12-31"}, allow_unicode=True), encoding="utf-8")
    code, out = _cli("case", "new", "--file", str(bad), "--as", "author")
    assert code == 2 and "project_end" in out and "Traceback" not in out
    big = tmp_path / "big.yaml"
    big.write_text("title: " + "x" * limits.case_file_max_bytes + "\n", encoding="utf-8")
    code, out = _cli("case", "new", "--file", str(big), "--as", "author")
    assert code == 2 and "--file" in out and "case_file_max_bytes" in out
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nchannels: [*b, *b]\n", encoding="utf-8")
    code, out = _cli("case", "new", "--file", str(bomb), "--as", "author")
    assert code == 2 and "aliases" in out
    code, out = _cli("case", "transition", "CB-000001", "withdraw", "--reason", "r" * (limits.text_max_chars + 1),
                     "--as", "author")
    assert code == 2 and "reason" in out
    assert _counts(ctx) == before


def _leaves(group, path: tuple[str, ...] = ()) -> list:
    """Every command of the CLI with its path (typer carries its own click: walked by shape, not class)."""
    out = []
    for name in group.list_commands(None):   # the root loads its command groups on first use
        cmd = group.get_command(None, name)
        if hasattr(cmd, "commands"):
            out += _leaves(cmd, path + (name,))
        else:
            out.append((path + (name,), cmd))
    return out


def _integer(p) -> bool:
    """An int parameter (typer 0.29 keeps the annotation in a type descriptor, older ones a click type)."""
    annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    if annotation is not None:
        return annotation in (int, int | None)
    return getattr(getattr(p, "type", None), "name", "") == "integer"


def _filled(cmd) -> list[str]:
    """Plausible values for a command's required parameters (so only the bad one is wrong)."""
    args: list[str] = []
    for p in cmd.params:
        value = "1" if _integer(p) else "CB-000001"
        if p.param_type_name == "argument" and p.required:
            args.append(value)
        elif p.param_type_name == "option" and p.required:
            args += [p.opts[0], value]
    return args


def test_every_cli_command_with_bad_arguments_exits_2_and_never_shows_a_traceback(ctx, users) -> None:
    leaves = _leaves(get_command(app))
    assert len(leaves) >= 30
    runs = 0
    for path, cmd in leaves:
        names = {o for p in cmd.params for o in getattr(p, "opts", [])}
        attempts = [[*path, "--no-such-option"], ["--now", "yesterday", *path, *_filled(cmd)]]
        if "--now" in names:
            attempts.append([*path, *_filled(cmd), "--now", "2026-13-45T10:00"])
        for p in cmd.params:
            if _integer(p) and p.param_type_name == "option":
                attempts.append([*path, *_filled(cmd), p.opts[0], "many"])
        for args in attempts:
            code, out = _cli(*args, input="")
            assert code == 2, (args, code, out[-300:])
            assert "Traceback" not in out, (args, out)
            runs += 1
    code, out = _cli("case", "show", "CB-000001", "--as", "intern", "--version", str(2**70))
    assert code in (2, 5) and "Traceback" not in out
    assert runs > 80


def test_cli_output_of_case_text_is_redacted_for_a_low_clearance_user_and_audited(ctx, users, full_case) -> None:
    key = published_case(ctx, users, full_case, "public")
    svc = CaseService(ctx)
    second = svc.create(users["author"], full_case | {"title": TITLE, "classification": "public",
                                                       "body": full_case["body"] | {"data": f"預算{FIGURE}。"}})
    svc.fire(users["author"], second, "submit")          # now waiting for a case specialist, with pre-checks
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM review_prechecks")).scalar_one() >= 1
    # The case specialist (internal clearance, another department) sees money as ranges; the intern too.
    runs = {"intern": [["case", "show", key], ["case", "list"], ["case", "history", key]],
            "spec": [["review", "queue"], ["review", "prechecks", second], ["case", "show", second]]}
    for who, commands in runs.items():
        for command in commands:
            for fmt in ([], ["--json"]):
                code, out = _cli(*command, "--as", who, *fmt)
                assert code == 0, (who, command, out)
                assert FIGURE not in out and "Traceback" not in out, (who, command, fmt)
                if command[1] in ("show", "list", "queue"):
                    assert key in out or second in out, (who, command)
    code, out = _cli("review", "prechecks", second, "--as", "spec")
    assert "sensitive_information" in out and "MONEY" in out      # the check with findings prints (no KeyError)
    code, out = _cli("case", "show", key, "--as", "author")
    assert FIGURE in out                                           # the author sees what they wrote
    with ctx.engine.connect() as conn:
        views = conn.execute(text("SELECT actor, case_key, via FROM access_log WHERE action = 'view'")).all()
    via_cli = {(a, s) for a, s, via in views if via == "cli"}      # reads go to the access log (h-audit)
    assert {("intern", key), ("spec", second), ("author", key)} <= via_cli

"""Refusals in the reader's language: every error key in the code is in the catalog in all three locales,
pydantic's errors reach API and CLI users translated, and typical refusals read as Chinese on a Chinese page."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import text
from typer.testing import CliRunner

from casebook.core import i18n
from casebook.core.errors import (CasebookError, IllegalTransition, InvalidInput, Problem, Reason, describe,
                                  describe_problem, pydantic_problems)
from casebook.core.locales import LOCALES
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("access", "library", "lifecycle", "review", "redaction", "notifications", "policies", "flows", "casebook")
KEY = re.compile(r"^(err|cli)_[a-z0-9_]*[a-z0-9]$")


@functools.cache
def _code() -> list[tuple[str, list[ast.AST]]]:
    """Every module of the packages (migrations aside) as its path and nodes, parsed once for the tests below."""
    return [(str(path.relative_to(ROOT)), list(ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.parts]


def _keys_in_code() -> dict[str, str]:
    """Every string literal in the code that is shaped like an error or CLI message key, with where it is."""
    found: dict[str, str] = {}
    for where, nodes in _code():
        for node in nodes:
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
                found.setdefault(node.value, f"{where}:{node.lineno}")
    return found


def test_every_error_and_cli_key_used_in_code_is_in_the_catalog_in_every_locale() -> None:
    keys = _keys_in_code()
    assert len(keys) > 120, "the walk found too few keys: is the code still raising keyed errors?"
    catalog = i18n.catalog()
    missing = {k: where for k, where in keys.items() if k not in catalog}
    assert not missing, missing
    for key in keys:
        assert set(catalog[key]) == set(LOCALES) and all(v.strip() for v in catalog[key].values()), key
        # the Chinese texts are Chinese (not the English copied over)
        for loc in ("zh-Hant", "zh-Hans"):
            if re.search(r"[A-Za-z]{4,}", catalog[key]["en"]) and not re.fullmatch(r"\{\w+\}", catalog[key]["en"]):
                assert catalog[key][loc] != catalog[key]["en"], (key, loc)


def test_no_user_reachable_refusal_is_raised_with_english_text_only() -> None:
    """Raise sites in the domain packages give a key: ``Forbidden("...")`` with a literal message is not left."""
    plain = re.compile(r"raise (Forbidden|NotFound|ConcurrentModification|BadCredentials|BadPartnerKey|RateLimited|"
                       r"CsrfRefused)\(f?[\"']")
    left = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if plain.search(line):
                    left.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not left, left


def _literal_problems(nodes: list[ast.AST]) -> list[int]:
    """Lines where ``Problem(field, "English text")`` is built with a literal rule instead of a catalog key."""
    return [node.lineno for node in nodes
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem"
            and len(node.args) >= 2 and isinstance(node.args[1], (ast.Constant, ast.JoinedStr))]


def test_no_problem_is_built_with_english_text_only() -> None:
    """Every validation problem names its rule by key (``Problem.of``), so a Chinese page never shows an English
    rule; the finder itself is shown to catch both a plain and an f-string rule."""
    sample = 'Problem("a", "must be x")\nProblem("b", f"at most {n}")\nProblem.of("c", "err_x")'
    assert sorted(_literal_problems(list(ast.walk(ast.parse(sample))))) == [1, 2]
    left = [f"{where}:{n}" for where, nodes in _code() for n in _literal_problems(nodes)]
    assert not left, left


def test_every_flow_has_a_description_in_every_locale() -> None:
    from flows.registry import JOBS

    for name in JOBS:
        assert i18n.has(f"flow_{name}"), name
        assert len({i18n.gettext(f"flow_{name}", loc) for loc in LOCALES}) == 3, name


class _Shapes(BaseModel):
    """One field per common pydantic error type."""

    budget: int = Field(ge=0)
    stars: int = Field(gt=0, le=5)
    title: str = Field(min_length=2, max_length=3)
    project_start: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    channels: list[str] = Field(max_length=1)
    micro: bool = False


def test_pydantic_errors_are_translated_by_type_and_ctx() -> None:
    with pytest.raises(ValidationError) as caught:
        _Shapes.model_validate({"budget": -1, "stars": 9, "title": "x", "currency": "cny",
                                "channels": ["a", "b"], "micro": "maybe", "extra": 1})
    problems = pydantic_problems(caught.value.errors())
    assert all(p.key and p.key.startswith("err_pyd_") and p.key != "err_pyd_invalid" for p in problems), \
        [(p.field, p.key) for p in problems]
    shown = {p.field: describe_problem(p, "zh-Hant") for p in problems}
    assert shown["budget"] == "預算：必須大於或等於 0"
    assert shown["stars"] == "星級：必須小於或等於 5"
    assert shown["title"] == "標題：至少需要 2 個字元"
    assert shown["project_start"].endswith("：必填")
    assert describe_problem(next(p for p in problems if p.field == "budget"), "zh-Hans") == "预算：必须大于或等于 0"
    # English stays pydantic's own wording (logs, older callers)
    assert next(p for p in problems if p.field == "budget").rule == "Input should be greater than or equal to 0"


def test_an_unknown_pydantic_type_keeps_its_detail() -> None:
    problem = pydantic_problems([{"type": "brand_new_type", "loc": ("x",), "msg": "Something odd", "ctx": {}}])[0]
    assert problem.rule == "Something odd"
    assert "Something odd" in describe_problem(problem, "zh-Hant") and "不是有效的值" in describe_problem(problem,
                                                                                                   "zh-Hant")


def test_str_of_a_keyed_error_stays_english_and_describe_follows_the_locale() -> None:
    from casebook.core.errors import NotFound

    err = NotFound.of("err_no_case", case="CB-000009")
    assert str(err) == "no case 'CB-000009'"
    assert describe(err, "zh-Hant") == "沒有案例「CB-000009」"
    assert describe(err, "zh-Hans") == "没有案例“CB-000009”"
    assert describe(err, "en") == "no case 'CB-000009'"
    moved = IllegalTransition("CB-1", "archive", "draft", ["submit", "withdraw"],
                              Reason("err_lacks_permission", role="staff", permission="case.archive"))
    assert "role 'staff' lacks permission 'case.archive'" in str(moved)
    assert describe(moved, "zh-Hant").startswith("「CB-1」目前處於「草稿」")


# -- the API ----------------------------------------------------------------------------------------------------

def _set_locale(ctx, username: str, locale: str) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE users SET locale = :l WHERE username = :u"), {"l": locale, "u": username})


def test_api_answers_a_pydantic_error_in_the_signed_in_users_language(ctx, full_case) -> None:
    from tests.web_helpers import client, people, published_case

    users = people(ctx)
    key = published_case(ctx, users, full_case, "internal")
    _set_locale(ctx, "author", "zh-Hant")
    r = client(ctx, "author").post(f"/api/v1/cases/{key}/ratings", json={"stars": 0})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["locale"] == "zh-Hant"
    assert "必須大於或等於 1" in body["message"]
    assert body["problems"][0]["field"] == "stars"                       # field names kept for programs
    assert body["problems"][0]["rule"] == "Input should be greater than or equal to 1"
    assert body["problems"][0]["message"] == "星級：必須大於或等於 1"
    assert body["error"].startswith("invalid request")                    # the English text is still there
    # a refusal of the domain, same user: translated as well
    r = client(ctx, "author").post("/api/v1/cases/CB-999999/transitions", json={"event": "submit"})
    assert r.status_code == 404 and r.json()["message"] == "沒有案例「CB-999999」"


def test_api_signed_out_follows_accept_language(ctx) -> None:
    from tests.web_helpers import client

    anonymous = client(ctx)
    r = anonymous.post("/api/v1/auth/token", json={"username": "", "password": "x"},
                       headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 422
    assert r.json()["problems"][0]["message"] == "账号：至少需要 1 个字符"
    r = anonymous.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong password"},
                       headers={"Accept-Language": "zh-TW"})
    assert r.status_code == 401 and r.json()["message"] == "帳號或密碼錯誤"
    r = anonymous.get("/api/v1/cases", headers={"Accept-Language": "en"})
    assert r.status_code == 401 and r.json()["detail"] == "authentication required"
    assert r.json()["message"] == "authentication required"


# -- the CLI ----------------------------------------------------------------------------------------------------

def _cli_localised(*args: str) -> tuple[int, str]:
    """The CLI as a user's shell runs it: no CASEBOOK_LOCALE, the POSIX locale (English unless the user's own)."""
    from casebook.cli import app

    result = CliRunner().invoke(app, list(args), env={"CASEBOOK_LOCALE": "", "LANG": "C.UTF-8", "LC_ALL": "",
                                                      "LC_MESSAGES": ""})
    return result.exit_code, result.output


def test_cli_prints_a_pydantic_error_in_the_acting_users_language(ctx, tmp_path: Path) -> None:
    from tests.conftest import make_users

    make_users(ctx, ("mei", "staff", "marketing"), ("joe", "staff", "marketing"))
    _set_locale(ctx, "mei", "zh-Hant")
    _set_locale(ctx, "joe", "en")
    doc = (FIXTURES / "case_full.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(doc.replace("budget: {amount: 480000,", "budget: {amount: -5,"), encoding="utf-8")
    assert "amount: -5" in bad.read_text(encoding="utf-8")
    code, out = _cli_localised("case", "new", "--file", str(bad), "--as", "mei")
    assert code == 2, out
    assert "錯誤：輸入不符合規則" in out
    assert "budget.amount（預算 金額）：必須大於或等於 0" in out
    assert "Traceback" not in out and "Input should" not in out
    code, out = _cli_localised("case", "new", "--file", str(bad), "--as", "joe")
    assert code == 2 and "budget.amount: Input should be greater than or equal to 0" in out
    # a refusal before the user is known still speaks the user's language (looked up for the message)
    code, out = _cli_localised("case", "show", "CB-424242", "--as", "mei")
    assert code == 5 and "沒有案例「CB-424242」" in out


def test_cli_language_from_casebook_locale_and_lang(ctx) -> None:
    from casebook.cli import app

    result = CliRunner().invoke(app, ["case", "list"], env={"CASEBOOK_LOCALE": "", "LANG": "zh_CN.UTF-8"})
    assert result.exit_code == 2 and "--as" in result.output and "必填" in result.output
    result = CliRunner().invoke(app, ["case", "list"], env={"CASEBOOK_LOCALE": "zh-Hant", "LANG": "en_US.UTF-8"})
    assert "執行操作的使用者" in result.output


# -- typical refusals on a Chinese page -------------------------------------------------------------------------

_QUOTED = re.compile(r"「[^」]*」|“[^”]*”|'[^']*'|\{[^}]*\}|[A-Z]{2}-\d+|\S+\.\S+|[a-z_]+:|\([^)]*\)|（[^）]*）")


def _english_left(message: str) -> list[str]:
    """English words outside quoted data (names, keys, codes): what would read as untranslated on a zh page."""
    return re.findall(r"[A-Za-z]{3,}", _QUOTED.sub("", message))


def test_typical_refusals_read_as_chinese(ctx, full_case) -> None:
    from access.accounts import sign_in
    from access.requests import request_access
    from library.feedback import rate
    from lifecycle.service import CaseService
    from review.queue import claim
    from tests.web_helpers import people, published_case

    users = people(ctx)
    key = published_case(ctx, users, full_case, "internal")
    svc = CaseService(ctx)
    draft = svc.create(users["author"], full_case)
    refusals: list[CasebookError] = []

    def refused(fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(CasebookError) as caught:
            fn(*args, **kwargs)
        refusals.append(caught.value)

    refused(sign_in, ctx, "author", "not the password", kind="session", ip="127.0.0.1")      # wrong password
    refused(svc.create, users["intern"], full_case)                                         # role may not create
    refused(svc.fire, users["author"], draft, "archive")                                    # illegal transition
    refused(svc.view, users["author"], "CB-999999")                                         # no such case
    refused(rate, ctx, users["author"], key, 99)                                            # out of range
    refused(svc.create, users["author"], full_case | {"budget": {"amount": -1}})            # pydantic
    refused(svc.create, users["author"], full_case | {"library": "nope", "colour": "red"})  # vocabulary, unknown
    refused(request_access, ctx, users["author"], key, "")                                  # reason required
    refused(claim, ctx, users["author"], 999_999)                                           # no task
    for exc in refusals:
        for locale in ("zh-Hant", "zh-Hans"):
            shown = describe(exc, locale)
            assert re.search(r"[\u4e00-\u9fff]", shown), (type(exc).__name__, shown)
            assert not _english_left(shown), (type(exc).__name__, str(exc), shown)
        assert not re.search(r"[\u4e00-\u9fff]", str(exc)), str(exc)      # logs and str() stay English


def test_invalid_input_lists_every_problem_with_the_field_label() -> None:
    exc = InvalidInput([Problem.of("project_end", "err_not_before", other="project_start"),
                        Problem.of("metrics.0.value", "err_finite_number")], "case")
    shown = describe(exc, "zh-Hant")
    assert "專案結束：不得早於專案開始" in shown and "關鍵數據 #1 數值：必須是有限的數字" in shown
    assert str(exc) == ("invalid case: project_end: must not be before project_start; "
                        "metrics.0.value: must be a finite number")


def test_cli_tables_speak_the_acting_users_language_and_show_labels_not_codes(ctx, full_case) -> None:
    from lifecycle.service import CaseService
    from tests.conftest import make_users

    users = make_users(ctx, ("mei", "staff", "marketing"))
    _set_locale(ctx, "mei", "zh-Hant")
    CaseService(ctx).create(users["mei"], full_case)
    code, out = _cli_localised("case", "list", "--as", "mei")
    assert code == 0, out
    for heading in ("編號", "狀態", "案例庫", "部門", "標題"):
        assert heading in out
    assert "草稿" in out and ctx.policy.label(full_case["library"], "zh-Hant") in out
    assert ctx.policy.label("marketing", "zh-Hant") in out
    for code_word in ("draft", full_case["library"], "marketing"):   # no raw code in what a person reads
        assert code_word not in out
    _set_locale(ctx, "mei", "en")
    code, out = _cli_localised("case", "list", "--as", "mei")
    assert code == 0 and "Key" in out and "Draft" in out and "marketing" not in out, out
    code, out = _cli_localised("case", "list", "--as", "mei", "--json")
    assert code == 0 and '"state": "draft"' in out                    # programs keep the codes


def test_cli_figures_read_as_labels_not_code_names(ctx, full_case) -> None:
    """``library dashboard`` and ``review stats`` print each figure by its label, nested counts too."""
    from tests.conftest import make_users

    make_users(ctx, ("ops1", "operations", "ops"))
    _set_locale(ctx, "ops1", "zh-Hant")
    code, out = _cli_localised("library", "dashboard", "--as", "ops1")
    assert code == 0, out
    assert "逾期未提交" in out and "各狀態的案例數" in out and "本月" in out
    for code_word in ("overdue_submissions", "by_state", "cycle_hours_by_level", "reuse_by_outcome", "applied_as_is"):
        assert code_word not in out, code_word
    from casebook.cli import app

    result = CliRunner().invoke(app, ["review", "stats"], env={"CASEBOOK_LOCALE": "zh-Hans"})
    assert result.exit_code == 0 and "各决定的次数" in result.output, result.output
    assert "by_decision" not in result.output and "overdue_open_tasks_by_level" not in result.output

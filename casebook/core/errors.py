"""Errors users see: each names the field or state and the rule, and guarantees nothing was written.

Every refusal can carry a catalog key and its parameters (``casebook/core/messages/errors.yaml``), so pages, the
API and the CLI put it into the reader's language through ``describe`` / ``describe_problem``. ``str(error)``
stays English (the catalog's ``en`` text): logs, audit details and older callers read that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field as dc_field
from typing import Any

from casebook.core import i18n
from casebook.core.reasons import StoredReason

#: Where a catalog key for a field's label is looked up first (then the web pages' own label of that name).
FIELD_PREFIX = "field_"
#: Parameters of a rule that name another field (shown with that field's label).
FIELD_PARAMS = ("other",)
#: Prefix of the catalog keys that translate pydantic's error types (``err_pyd_greater_than_equal`` ...).
PYDANTIC_PREFIX = "err_pyd_"


def english(key: str, params: Mapping[str, Any]) -> str:
    """The catalog's English text of ``key`` (what logs and ``str(error)`` show)."""
    return text(key, params, "en")


class Reason(str):
    """A refusal reason that is a plain English string to old callers and a catalog key to the describer.

    Guards and rule checks (``why_not``, ``may_request`` ...) return reasons as strings; returning a ``Reason``
    keeps that contract while letting the reason be shown in the reader's language."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Reason:
        obj = super().__new__(cls, english(key, params))
        obj.key, obj.params = key, params
        return obj


class Coded(str):
    """A code of a vocabulary (a library, a role ...) that is itself to English readers and carries its label
    per locale for the others (``Policy.coded`` builds it from the policy's labels)."""

    labels: dict[str, str]

    def __new__(cls, code: str, labels: Mapping[str, str | None] | None = None) -> Coded:
        obj = super().__new__(cls, code)
        obj.labels = {k: v for k, v in (labels or {}).items() if v}
        return obj


def reason(key: str, /, **params: Any) -> Reason:
    """A keyed refusal reason (see ``Reason``)."""
    return Reason(key, **params)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a dotted path) and which rule it broke.

    ``key``/``params`` name the rule in the catalog; ``rule`` is its English text."""

    field: str
    rule: str
    key: str | None = dc_field(default=None, compare=False)
    params: Mapping[str, Any] = dc_field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, field: str, key: str, /, **params: Any) -> Problem:
        """A problem whose rule is the catalog message ``key`` (the English text is derived)."""
        return cls(field, english(key, params), key, params)

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class CasebookError(Exception):
    """Base of every refusal; ``exit_code`` is what the CLI returns, ``http_status`` what the API answers.

    Build keyed refusals with ``NotFound.of("err_no_case", case=key)``; a ``Reason`` passed as the message
    brings its key along."""

    exit_code = 1
    http_status = 400
    key: str | None = None
    params: dict[str, Any] = {}

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        first = args[0] if args else None
        if isinstance(first, Reason):
            self.key, self.params = first.key, first.params

    @classmethod
    def of(cls, key: str, /, **params: Any) -> Any:
        """The refusal with catalog message ``key``; ``str()`` of it is the English text."""
        err = cls(english(key, params))
        err.key, err.params = key, params
        return err


class InvalidInput(CasebookError):
    """Input that breaks one or more rules; lists every problem, not just the first."""

    exit_code = 2
    http_status = 422

    def __init__(self, problems: list[Problem], what: str = "input") -> None:
        self.problems = problems
        self.what = what
        super().__init__(f"invalid {what}: " + "; ".join(str(p) for p in problems))


class IllegalTransition(CasebookError):
    """An event that the current state, its guards or the actor's role do not allow."""

    exit_code = 3
    http_status = 409

    def __init__(self, case_key: str, event: str, state: str, allowed: list[str], reason: str = "") -> None:
        self.case_key, self.event, self.state, self.allowed, self.reason = case_key, event, state, allowed, reason
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{case_key}: event '{event}' is not allowed in state '{state}'{why}; "
            f"allowed now: {', '.join(allowed) if allowed else 'none'}"
        )


class ConcurrentModification(CasebookError):
    """Someone else changed the row first; the loser's change is rolled back whole."""

    exit_code = 4
    http_status = 409


class NotFound(CasebookError):
    exit_code = 5
    http_status = 404


class Forbidden(CasebookError):
    exit_code = 6
    http_status = 403


# -- the reader's language -------------------------------------------------------------------------------------

def _label(name: str, locale: str, prefix: str = "") -> str:
    """A catalog label for ``name``: ``field_<name>`` (errors.yaml), else the web pages' key of that name."""
    for key in (f"{FIELD_PREFIX}{prefix}{name}", f"{prefix}{name}"):
        if i18n.has(key):
            return i18n.gettext(key, locale)
    return name


def field_label(path: str, locale: str) -> str:
    """A dotted input path as the reader names it: ``metrics.0.value`` -> ``指標 #1 數值``; unknown parts stay."""
    if not path:
        return path
    parts, known = [], False
    for part in path.split("."):
        if part.isdigit():
            parts.append(f"#{int(part) + 1}")
            continue
        name = part.strip("-()").replace("-", "_")
        label = _label(name, locale)
        known = known or label != name
        parts.append(label)
    return " ".join(parts) if known else path


def _param(value: Any, locale: str) -> Any:
    """Parameters shaped for the reader: lists joined with the locale's separator, problems and reasons
    described in the locale."""
    if isinstance(value, Problem):
        return describe_problem(value, locale) if locale != "en" else str(value)
    if isinstance(value, Reason):
        return text(value.key, value.params, locale)
    if isinstance(value, StoredReason):
        return value.shown(locale)
    if isinstance(value, Coded):
        return str(value) if locale == "en" else value.labels.get(locale, str(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        sep = ", " if locale == "en" else "、"
        if any(isinstance(v, Problem) for v in value):
            sep = "; " if locale == "en" else "；"
        return sep.join(str(_param(v, locale)) for v in value)
    return value


def text(key: str, params: Mapping[str, Any], locale: str) -> str:
    """Catalog message ``key`` in ``locale`` with parameters shaped for it."""
    return i18n.gettext(key, locale, **{k: _param(v, locale) for k, v in params.items()})


def _reason_text(why: str, locale: str) -> str:
    if isinstance(why, Reason):
        return text(why.key, why.params, locale)
    return why


def describe_problem(problem: Problem, locale: str) -> str:
    """One problem (field and rule) as a user of ``locale`` reads it."""
    locale = i18n.normalise_locale(locale)
    params = {k: field_label(v, locale) if k in FIELD_PARAMS and isinstance(v, str) else v
              for k, v in problem.params.items()}
    rule = text(problem.key, params, locale) if problem.key else problem.rule
    if locale == "en":
        return f"{field_label(problem.field, locale)}: {rule}"
    label = field_label(problem.field, locale)
    return f"{label if label != problem.field else '「' + label + '」'}：{rule}"


def describe(error: CasebookError, locale: str) -> str:
    """The error as a user of ``locale`` reads it (pages, API and CLI all show errors through this)."""
    locale = i18n.normalise_locale(locale)
    if isinstance(error, InvalidInput):
        sep = "; " if locale == "en" else "；"
        return i18n.gettext("err_invalid_input", locale) + (" " if locale == "en" else "") + sep.join(
            describe_problem(p, locale) for p in error.problems)
    if isinstance(error, IllegalTransition):
        allowed = [_label(e, locale, "event_") for e in error.allowed]
        why = _reason_text(error.reason, locale) if error.reason else ""
        msg = text("err_illegal_transition", {
            "case": error.case_key, "event": _label(error.event, locale, "event_"),
            "state": _label(error.state, locale, "state_"),
            "allowed": allowed or [i18n.gettext("err_none", locale)]}, locale)
        return msg + (text("err_because", {"reason": why}, locale) if why else "")
    if error.key:
        return text(error.key, error.params, locale)
    return str(error)


# -- pydantic ---------------------------------------------------------------------------------------------------

def pydantic_problem(path: str, err: Mapping[str, Any]) -> Problem:
    """A pydantic error as a keyed problem: its ``type`` picks the catalog message, ``ctx`` fills it.

    A type the catalog does not know keeps pydantic's English text (under the generic "is not valid" key for
    other locales, with the English detail appended)."""
    kind = str(err.get("type", ""))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    ctx = {k: _ctx_value(v) for k, v in (err.get("ctx") or {}).items()}
    if kind == "value_error":  # our own validators: their text is the rule (English only)
        return Problem(path, msg, "err_pyd_value_error", {"detail": msg})
    key = PYDANTIC_PREFIX + kind
    if i18n.has(key):
        shape = i18n.catalog()[key]["en"]
        try:
            shape.format(**ctx)
        except (KeyError, IndexError, ValueError):
            return Problem(path, msg, "err_pyd_invalid", {"detail": msg})
        return Problem(path, english(key, ctx), key, ctx)
    return Problem(path, msg, "err_pyd_invalid", {"detail": msg})


def _ctx_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, BaseException):
        return str(value)
    return value


def pydantic_problems(errors: Iterable[Mapping[str, Any]], *, strip: tuple[str, ...] = (),
                      default: str = "(document)") -> list[Problem]:
    """Every error of a pydantic ``ValidationError.errors()`` as a keyed problem; leading location parts in
    ``strip`` (``body``, ``query`` ...) are dropped from the field path."""
    out = []
    for err in errors:
        parts = [str(p) for p in err.get("loc", ())]
        if parts and parts[0] in strip and len(parts) > 1:
            parts = parts[1:]
        out.append(pydantic_problem(".".join(parts) or default, err))
    return out

"""The case document at the edge: pydantic shape plus the policy's vocabularies and intake checklist."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from casebook.core.errors import InvalidInput, Problem, pydantic_problem
from casebook.core.textnorm import PartsMemo, fingerprint, fingerprint_of_parts
from lifecycle.bounds import document_problems, number_problem
from policies.loader import Policy

SECTIONS = ("background", "goal", "strategy", "execution", "data", "reflection")


#: Fields whose values are amounts even when written as text (checked for range as numbers).
AMOUNT_FIELDS = ("budget.amount", "metrics.value")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Text may hold tabs and line breaks, never NUL or other control characters (PostgreSQL refuses NUL)."""
        for item in _strings(value):
            if _CONTROL.search(item):
                raise PydanticCustomError("control_characters", "must not contain control characters (such as NUL)")
        return value


class Body(Edge):
    """The six-part template 背景-目標-策略-執行-數據-反思."""

    background: str | None = None
    goal: str | None = None
    strategy: str | None = None
    execution: str | None = None
    data: str | None = None
    reflection: str | None = None


class Budget(Edge):
    amount: Decimal = Field(ge=0, allow_inf_nan=False)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class Metric(Edge):
    """A key figure; ``source`` names the data source it is traced to."""

    name: str = Field(min_length=1)
    value: float = Field(allow_inf_nan=False)
    unit: str | None = None
    kind: str | None = None  # what the figure is, for consistency checks: revenue, cost, roi, share, …
    source: str | None = None


class DataSource(Edge):
    """Where figures come from: traceability is mandatory (source, interviewees, validation method)."""

    name: str = Field(min_length=1)
    kind: str | None = None
    interviewees: list[str] = Field(default_factory=list)
    validation_method: str | None = None


class CaseDocument(Edge):
    title: str | None = Field(default=None, max_length=300)
    library: str | None = None
    scenario: str | None = None
    outcome: str | None = None
    classification: str | None = None
    department: str | None = None
    owner: str | None = None
    micro: bool = False
    project_start: date | None = None
    project_end: date | None = None
    target_users: str | None = None
    budget: Budget | None = None
    channels: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)
    body: Body = Field(default_factory=Body)
    metrics: list[Metric] = Field(default_factory=list)
    data_sources: list[DataSource] = Field(default_factory=list)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    return []


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(document)"
        out.append(Problem.of(path, "err_unknown_field") if err["type"] == "extra_forbidden"
                   else pydantic_problem(path, err))
    return out


def policy_problems(policy: Policy, doc: CaseDocument, *, required: list[str]) -> list[Problem]:
    """Problems against the policy's vocabularies, the required fields and date order."""
    p = policy.doc
    problems: list[Problem] = []
    data = doc.model_dump()
    for name in required:
        if is_empty(lookup(data, name)):
            problems.append(Problem.of(name, "err_required"))
    checks = [("library", list(p.libraries)), ("scenario", p.scenarios), ("outcome", p.outcomes),
              ("classification", p.classifications)]
    for field, allowed in checks:
        value = getattr(doc, field)
        if value is not None and value not in allowed:
            problems.append(Problem.of(field, "err_one_of_got", allowed=[policy.coded(a) for a in allowed], value=value))
    for facet, values in doc.tags.items():
        spec = p.tag_facets.get(facet)
        if spec is None:
            problems.append(Problem.of(f"tags.{facet}", "err_unknown_facet", known=list(p.tag_facets)))
        elif not spec.open:
            for i, v in enumerate(values):
                if v not in spec.values:
                    problems.append(Problem.of(f"tags.{facet}.{i}", "err_one_of_got", allowed=list(spec.values), value=v))
    limits = p.limits
    for field in ("project_start", "project_end"):
        value = getattr(doc, field)
        if value is not None and not limits.date_earliest <= value <= limits.date_latest:
            problems.append(Problem.of(field, "err_date_between", low=limits.date_earliest, high=limits.date_latest))
    if doc.budget is not None and (problem := number_problem(limits, "budget.amount", doc.budget.amount)):
        problems.append(problem)
    for i, metric in enumerate(doc.metrics):
        if problem := number_problem(limits, f"metrics.{i}.value", metric.value):
            problems.append(problem)
    if doc.project_start and doc.project_end and doc.project_end < doc.project_start:
        problems.append(Problem.of("project_end", "err_not_before", other="project_start"))
    names = [s.name for s in doc.data_sources]
    if len(set(names)) != len(names):
        problems.append(Problem.of("data_sources", "err_names_unique"))
    return problems


def parse_document(policy: Policy, raw: Any, *, required: list[str]) -> CaseDocument:
    """Validate a whole document; every problem (shape, vocabulary, required, dates) is listed at once."""
    if not isinstance(raw, dict):
        raise InvalidInput([Problem.of("(document)", "err_document_mapping")], "case")
    too_big = document_problems(policy.doc.limits, raw, numbers=AMOUNT_FIELDS)
    if too_big:  # refused before validation or analysis spends time on it
        raise InvalidInput(too_big, "case")
    try:
        doc = CaseDocument.model_validate(raw)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
        # Still report policy problems of the fields that did parse, so the user fixes everything in one go.
        ok_fields = {k: v for k, v in raw.items() if not any(pr.field.split(".")[0] == k for pr in problems)}
        try:
            partial = CaseDocument.model_validate(ok_fields)
            problems += [pr for pr in policy_problems(policy, partial, required=required)
                         if pr.field.split(".")[0] not in {q.field.split(".")[0] for q in problems}]
        except ValidationError:
            pass
        raise InvalidInput(problems, "case") from None
    problems = policy_problems(policy, doc, required=required)
    if problems:
        raise InvalidInput(problems, "case")
    return doc


def merge_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes`` applied: an edit changes only the fields it names.

    Nested mappings (``body``, ``budget``, ``tags``) merge field by field, so a change naming ``body.strategy``
    keeps the other sections; an explicit ``None`` clears a field; lists are replaced whole (a list names all of
    its items). Neither input is modified."""
    out = dict(current)
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = merge_changes(out[name], value)
        else:
            out[name] = value
    return out


def lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def submit_problems(policy: Policy, document: dict[str, Any]) -> list[Problem]:
    """The submit guard: the intake checklist (shorter for micro-cases) and figure traceability."""
    intake = policy.doc.intake
    checklist = intake.micro_mandatory_on_submit if document.get("micro") else intake.mandatory_on_submit
    problems = [Problem.of(path, "err_intake_missing", item=item)
                for item, path in checklist.items() if is_empty(lookup(document, path))]
    if intake.traceability_required:
        sources = {s["name"] for s in document.get("data_sources") or []}
        for i, metric in enumerate(document.get("metrics") or []):
            if not metric.get("source"):
                problems.append(Problem.of(f"metrics.{i}.source", "err_figure_needs_source"))
            elif metric["source"] not in sources:
                problems.append(Problem.of(f"metrics.{i}.source", "err_not_listed_source", source=metric["source"]))
        for i, src in enumerate(document.get("data_sources") or []):
            if not src.get("validation_method"):
                problems.append(Problem.of(f"data_sources.{i}.validation_method", "err_source_needs_validation"))
    return problems


def text_fields(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every non-empty free-text value of a case document, with its path: what detection scans and redaction
    renders. Prose, plus channels, free tag values, metric names and sources, data-source names, kinds and
    interviewees (a name there is as personal as one in the body). The near-duplicate fingerprint reads them too."""
    out = [("title", document.get("title") or ""), ("target_users", document.get("target_users") or "")]
    body = document.get("body") or {}
    out += [(f"body.{s}", body.get(s) or "") for s in SECTIONS]
    for i, source in enumerate(document.get("data_sources") or []):
        out.append((f"data_sources.{i}.validation_method", source.get("validation_method") or ""))
    out += [(f"channels.{i}", c) for i, c in enumerate(document.get("channels") or []) if isinstance(c, str)]
    for facet, values in (document.get("tags") or {}).items():
        out += [(f"tags.{facet}.{i}", v) for i, v in enumerate(values or []) if isinstance(v, str)]
    for i, metric in enumerate(document.get("metrics") or []):
        out += [(f"metrics.{i}.{key}", metric.get(key) or "") for key in ("name", "source")]
    for i, source in enumerate(document.get("data_sources") or []):
        out += [(f"data_sources.{i}.{key}", source.get(key) or "") for key in ("name", "kind")]
        out += [(f"data_sources.{i}.interviewees.{j}", p) for j, p in enumerate(source.get("interviewees") or [])
                if isinstance(p, str)]
    return [(path, text) for path, text in out if text]


def document_fingerprint(document: dict[str, Any], memo: PartsMemo | None = None) -> bytes:
    """Trigram fingerprint of the document's text fields (what the near-duplicate pre-check compares); ``memo``
    remembers each field text's trigrams across documents that share texts (bulk seeding), same result."""
    texts = [text for _, text in text_fields(document)]
    return fingerprint("".join(texts)) if memo is None else fingerprint_of_parts(texts, memo)

"""The capture form and the case document, both ways: a document becomes form values (to edit it) and posted
form fields become a document holding only the groups the form carried (so an edit names only what it shows).

Shell code only: validation is the domain's (``lifecycle.document``), the same as the CLI and API use.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from lifecycle.document import SECTIONS

SCALARS = ("title", "library", "scenario", "outcome", "classification", "department", "owner", "project_start",
           "project_end", "target_users")
#: Empty rows offered below the filled ones, so an author can add figures and sources without JavaScript.
SPARE_ROWS = 2
_SPLIT = re.compile(r"\s*[,，、;；\n]\s*")


def _items(text: str | None) -> list[str]:
    return [x for x in _SPLIT.split(text or "") if x]


def form_values(document: dict[str, Any], facets: list[str]) -> dict[str, Any]:
    """Flat form values of a case document (what the edit form shows prefilled)."""
    values: dict[str, Any] = {k: document.get(k) or "" for k in SCALARS}
    values["micro"] = bool(document.get("micro"))
    budget = document.get("budget") or {}
    values["budget_amount"] = budget.get("amount", "")
    values["budget_currency"] = budget.get("currency", "CNY")
    values["channels"] = ", ".join(document.get("channels") or [])
    tags = document.get("tags") or {}
    for facet in facets:
        values[f"tag_{facet}"] = list(tags.get(facet) or [])
    body = document.get("body") or {}
    for s in SECTIONS:
        values[f"body_{s}"] = body.get(s) or ""
    for i, m in enumerate(document.get("metrics") or []):
        for part in ("name", "value", "unit", "kind", "source"):
            values[f"metric_{i}_{part}"] = "" if m.get(part) is None else m.get(part)
    for i, d in enumerate(document.get("data_sources") or []):
        values[f"source_{i}_name"] = d.get("name") or ""
        values[f"source_{i}_kind"] = d.get("kind") or ""
        values[f"source_{i}_validation_method"] = d.get("validation_method") or ""
        values[f"source_{i}_interviewees"] = ", ".join(d.get("interviewees") or [])
    values["metric_rows"] = len(document.get("metrics") or []) + SPARE_ROWS
    values["source_rows"] = len(document.get("data_sources") or []) + SPARE_ROWS
    return values


def _rows(form: Any, prefix: str, parts: tuple[str, ...]) -> list[dict[str, str]]:
    indexes = sorted({int(m.group(1)) for k in form.keys() if (m := re.fullmatch(rf"{prefix}_(\d+)_\w+", k))})
    rows = []
    for i in indexes:
        row = {p: str(form.get(f"{prefix}_{i}_{p}") or "").strip() for p in parts}
        if any(row.values()):
            rows.append(row)
    return rows


def form_document(form: Any, facets: list[str]) -> dict[str, Any]:
    """The document a posted form describes, holding only the groups present in the form.

    A group is present when one of its inputs was posted (or, for checkboxes and multi-selects that post nothing
    when empty, when the form lists it in a hidden ``present`` field). An empty input means "no value" (None).
    """
    present = set(form.getlist("present")) if hasattr(form, "getlist") else set()
    doc: dict[str, Any] = {}
    for name in SCALARS:
        if name in form:
            doc[name] = str(form.get(name) or "").strip() or None
    if "micro" in form or "micro" in present:
        doc["micro"] = str(form.get("micro") or "") in ("1", "on", "true", "yes")
    if "budget_amount" in form:
        amount = str(form.get("budget_amount") or "").strip()
        doc["budget"] = {"amount": amount, "currency": str(form.get("budget_currency") or "CNY").strip()} \
            if amount else None
    if "channels" in form:
        doc["channels"] = _items(str(form.get("channels")))
    tags: dict[str, list[str]] = {}
    for facet in facets:
        field = f"tag_{facet}"
        if field in form or field in present:
            chosen = form.getlist(field) if hasattr(form, "getlist") else [form.get(field)]
            tags[facet] = [t for v in chosen for t in _items(str(v or ""))]
    if tags:
        doc["tags"] = tags
    body = {s: (str(form.get(f"body_{s}") or "").strip() or None) for s in SECTIONS if f"body_{s}" in form}
    if body:
        doc["body"] = body
    if "metrics" in present or any(k.startswith("metric_") for k in form.keys()):
        doc["metrics"] = [{"name": r["name"], "value": r["value"] or None, "unit": r["unit"] or None,
                           "kind": r["kind"] or None, "source": r["source"] or None}
                          for r in _rows(form, "metric", ("name", "value", "unit", "kind", "source"))]
    if "data_sources" in present or any(k.startswith("source_") for k in form.keys()):
        doc["data_sources"] = [{"name": r["name"], "kind": r["kind"] or None,
                                "validation_method": r["validation_method"] or None,
                                "interviewees": _items(r["interviewees"])}
                               for r in _rows(form, "source", ("name", "kind", "validation_method", "interviewees"))]
    return doc


def changed_only(current: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    """The part of ``proposed`` that differs from ``current`` (nested mappings compared field by field), so a form
    showing every field still edits only what the author changed."""
    out: dict[str, Any] = {}
    for name, value in proposed.items():
        old = current.get(name)
        if isinstance(value, dict) and isinstance(old, dict):
            inner = changed_only(old, value)
            if inner:
                out[name] = inner
        elif _norm(value) != _norm(old):
            out[name] = value
    return out


def _norm(value: Any) -> Any:
    """Compare as the form shows values: empty means absent, numbers by value."""
    if value in ("", [], {}, None):
        return None
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if _norm(v) is not None}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    try:
        return float(value) if isinstance(value, (int, float)) or re.fullmatch(r"-?\d+(\.\d+)?", str(value)) \
            else value
    except (TypeError, ValueError):
        return value


def errors_by_field(problems: list[Any], describe: Callable[[Any], str] | None = None) -> dict[str, list[str]]:
    """Problems keyed by the form input that shows them (``body.goal`` -> ``body_goal``, ``metrics.0.source`` ->
    ``metric_0_source``, ``budget.amount`` -> ``budget_amount``), each as ``describe`` words it for the reader
    (the bare rule when no describer is given)."""
    out: dict[str, list[str]] = {}
    for p in problems:
        field = p.field
        field = re.sub(r"^body\.", "body_", field)
        field = re.sub(r"^metrics\.(\d+)\.(\w+)$", r"metric_\1_\2", field)
        field = re.sub(r"^data_sources\.(\d+)\.(\w+)$", r"source_\1_\2", field)
        field = re.sub(r"^budget\.(\w+)$", r"budget_\1", field)
        field = re.sub(r"^tags\.(\w+)(\.\d+)?$", r"tag_\1", field)
        out.setdefault(field, []).append(describe(p) if describe else p.rule)
    return out

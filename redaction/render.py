"""The one rendering path: every output that shows case text (CLI, API, pages, search snippets, exports,
notifications) turns it into the audience's version here, with the policy's tier table and the reviewers'
overrides. Case versions are rendered from their stored findings (``redaction.stored``): detection runs when
a version is written, never on a read path.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from lifecycle.document import text_fields
from policies.loader import Policy
from redaction.analyzer import Finding, Lang, detect
from redaction.operators import script_of
from redaction.tiers import Audience, action_for, operator


@dataclass(frozen=True)
class Override:
    """A reviewer's correction in one field: ``add`` a missed span or ``remove`` a false positive."""

    field: str
    action: str
    entity_type: str
    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _anonymizer() -> AnonymizerEngine:
    return AnonymizerEngine()


def apply_overrides(text: str, findings: list[Finding], overrides: list[Override]) -> list[Finding]:
    """Findings after the reviewers' removals and additions (an added span wins over what it overlaps)."""
    out = list(findings)
    for o in overrides:
        if o.action == "remove":
            out = [f for f in out if not (f.start < o.end and o.start < f.end and f.text == o.text)]
    for o in overrides:
        if o.action != "add":
            continue
        spans = [(o.start, o.end)] if text[o.start:o.end] == o.text else []
        if not spans:  # the text moved (a later version): honour the addition wherever it now stands
            pos = text.find(o.text)
            while pos >= 0 and o.text:
                spans.append((pos, pos + len(o.text)))
                pos = text.find(o.text, pos + 1)
        for start, end in spans:
            out = [f for f in out if not (f.start < end and start < f.end)]
            out.append(Finding(o.entity_type, start, end, text[start:end], 1.0))
    return sorted(out, key=lambda f: f.start)


def findings_for(policy: Policy, text: str, overrides: list[Override] = (), lang: Lang = "auto") -> list[Finding]:
    """Detected spans of one text, with overrides applied."""
    found = detect(text, lang, threshold=policy.doc.redaction.threshold)
    return apply_overrides(text, found, list(overrides)) if overrides else found


def document_findings(policy: Policy, document: dict[str, Any], overrides: list[Override] = (),
                      detected: dict[str, list[Finding]] | None = None) -> list[tuple[str, str, list[Finding]]]:
    """(path, text, findings) for every free-text field, each with that field's own overrides applied.

    ``detected`` holds the stored findings per field (``redaction.stored``); without it the analyzer runs
    (only where a version is written or re-detected)."""
    by_field: dict[str, list[Override]] = {}
    for o in overrides:
        by_field.setdefault(o.field, []).append(o)
    out = []
    for path, text in text_fields(document):
        mine = by_field.get(path, [])
        if detected is None:
            out.append((path, text, findings_for(policy, text, mine)))
        else:
            found = detected.get(path, [])
            out.append((path, text, apply_overrides(text, found, mine) if mine else found))
    return out


def render_text(policy: Policy, text: str, audience: Audience, *, findings: list[Finding] | None = None,
                lang: Lang = "auto") -> str:
    """``text`` as ``audience`` may see it."""
    if not text:
        return text
    if findings is None:
        findings = findings_for(policy, text, lang=lang)
    if not findings:
        return text
    script = script_of(text)
    results, configs = [], {}
    for f in findings:
        action = action_for(policy, f.entity_type, audience)
        if action == "keep":
            continue
        results.append(RecognizerResult(f.entity_type, f.start, f.end, f.score))
        if f.entity_type not in configs:
            configs[f.entity_type] = OperatorConfig("custom", {"lambda": operator(policy, f.entity_type, action,
                                                                                   script)})
    if not results:
        return text
    return _anonymizer().anonymize(text=text, analyzer_results=results, operators=configs).text


def _structured(policy: Policy, entity: str, shown: str, audience: Audience, script: str) -> str | None:
    """A structured value's display under the audience's action, or None to keep it exact."""
    action = action_for(policy, entity, audience)
    if action == "keep":
        return None
    return operator(policy, entity, action, script)(shown)


def metric_entity(policy: Policy, metric: dict[str, Any]) -> str | None:
    """Whether a structured metric is money, a percentage, or (None) not sensitive, by its kind or unit."""
    red = policy.doc.redaction
    kind = (metric.get("kind") or "").lower()
    unit = metric.get("unit") or ""
    for entity in ("MONEY", "PERCENTAGE"):
        if kind in red.metric_kinds.get(entity, []) or unit in red.metric_units.get(entity, []):  # type: ignore[call-overload]
            return entity
    return None


def render_document(policy: Policy, document: dict[str, Any], audience: Audience,
                    overrides: list[Override] = (), *, detected: dict[str, list[Finding]] | None = None,
                    fields: list[tuple[str, str, list[Finding]]] | None = None) -> dict[str, Any]:
    """A whole case document at the audience's tier: free text, budget, metrics, owner and interviewees.

    A value that is not shown exactly is replaced by ``None`` with a ``display`` string beside it, so no
    exact figure survives in a structured field either. ``fields`` (from ``document_findings``) lets a caller
    rendering several tiers resolve the overrides once.
    """
    return apply_patch(_copy(document), render_patch(policy, document, audience, overrides, detected=detected,
                                                     fields=fields))


def render_patch(policy: Policy, document: dict[str, Any], audience: Audience,
                 overrides: list[Override] = (), *, detected: dict[str, list[Finding]] | None = None,
                 fields: list[tuple[str, str, list[Finding]]] | None = None,
                 memo: dict[Any, str | None] | None = None) -> dict[str, Any]:
    """What ``render_document`` changes, as a patch for ``apply_patch``: changed top-level values, changed keys
    of nested mappings (body sections), whole lists where an item changed. Stored per display tier.

    ``memo`` remembers renderings by text and audience (for many documents sharing texts and no overrides:
    ``casebook seed``).
    """
    patch: dict[str, Any] = {}
    script = script_of(" ".join(t for _, t in text_fields(document)) or "")
    if fields is None:
        fields = document_findings(policy, document, list(overrides), detected)

    def once(key: Any, make: Any) -> Any:
        if memo is None:
            return make()
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def structured(entity: str, shown: str) -> str | None:
        return once((entity, shown, audience, script), lambda: _structured(policy, entity, shown, audience, script))

    for path, text, findings in fields:
        shown = once((text, audience, script), lambda: render_text(policy, text, audience, findings=findings))
        if shown != text:
            _put(patch, document, path, shown)
    budget = document.get("budget")
    if budget and budget.get("amount") is not None:
        display = structured("MONEY", f"{Decimal(str(budget['amount'])):,f} {budget.get('currency') or 'CNY'}")
        if display is not None:
            patch["budget"] = {"amount": None, "currency": budget.get("currency"), "display": display}
    for i, metric in enumerate(document.get("metrics") or []):
        entity = metric_entity(policy, metric)
        if entity is None or metric.get("value") is None:
            continue
        unit = metric.get("unit") or ""
        value = Decimal(str(metric["value"])).normalize()
        display = structured(entity, f"{value:f}{unit}" if entity == "PERCENTAGE" else f"{value:,f} {unit or 'CNY'}")
        if display is not None:
            _put(patch, document, f"metrics.{i}.value", None)
            _put(patch, document, f"metrics.{i}.display", display)
    if document.get("owner"):
        display = structured("PERSON", document["owner"])
        if display is not None:
            patch["owner"] = display
    for i, source in enumerate(document.get("data_sources") or []):
        people = source.get("interviewees")
        if not people:
            continue
        shown_people = [structured("PERSON", p) for p in people]
        if any(s is not None for s in shown_people):
            _put(patch, document, f"data_sources.{i}.interviewees",
                 [p if s is None else s for p, s in zip(people, shown_people)])
    return patch


def _put(patch: dict[str, Any], document: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in a patch: nested mappings stay partial, a list is copied whole into the patch once."""
    parts = path.split(".")
    node, source = patch, document
    for i, part in enumerate(parts[:-1]):
        child = source.get(part) if isinstance(source, dict) else None
        if isinstance(child, list):
            if part not in node:
                node[part] = _copy(child)
            _set(node[part], ".".join(parts[i + 1:]), value)
            return
        node = node.setdefault(part, {})
        source = child if isinstance(child, dict) else {}
    node[parts[-1]] = value


def apply_patch(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A document with a stored patch applied (a new top-level mapping; the input is not changed)."""
    out = dict(document)
    for k, v in patch.items():
        out[k] = apply_patch(document[k], v) if isinstance(v, dict) and isinstance(document.get(k), dict) else v
    return out


def _copy(value: Any) -> Any:
    """A copy of a JSON document (dicts and lists copied, scalars shared): what deepcopy does, faster."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _set(doc: Any, path: str, value: Any) -> None:
    node: Any = doc
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value


def shown_budget(budget: dict[str, Any]) -> str:
    """A rendered budget: its display (range or label) when the exact amount is withheld."""
    return budget.get("display") or f"{budget.get('amount')} {budget.get('currency')}"


def shown_metric(metric: dict[str, Any]) -> str:
    """A rendered metric: its display when the exact value is withheld."""
    return metric.get("display") or f"{metric.get('value')}{metric.get('unit') or ''}"

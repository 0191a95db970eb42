"""The one rendering path: every output that shows case text (CLI, API, pages, search snippets, exports,
notifications) turns it into the audience's version here, with the policy's tier table, the reviewers'
overrides and the case's pseudonyms. Case versions are rendered from their stored findings
(``redaction.stored``): detection runs when a version is written, never on a read path.

``render_findings`` and ``render_document`` (given ``detected`` or ``fields``) are pure and never call the
analyzer: text + findings + overrides + audience in, text out. They splice each finding's replacement into
the text; replacements are memoised per policy, entity, action, script and span, so rendering a stored version
costs string work only. ``render_text`` / ``findings_for`` without findings detect first (CLI, ad-hoc text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from lifecycle.document import text_fields
from policies.loader import Policy
from redaction import pseudonyms as names
from redaction.findings import Finding
from redaction.operators import script_of
from redaction.tiers import Audience, action_for, operator, operators

Lang = str


@dataclass(frozen=True)
class Override:
    """A reviewer's correction in one field: ``add`` a missed span or ``remove`` a false positive."""

    field: str
    action: str
    entity_type: str
    start: int
    end: int
    text: str


#: Overrides of these entity types follow the person: they apply in every field where the same text stands.
FOLLOWS_TEXT = frozenset({"PERSON"})


def apply_overrides(text: str, findings: list[Finding], overrides: list[Override]) -> list[Finding]:
    """Findings after the reviewers' removals and additions (an added span wins over what it overlaps).

    An override whose offsets do not hold its text here (a later version, or another field for a person)
    applies wherever its text stands: additions fail closed, removals of a person follow the person."""
    out = list(findings)
    for o in overrides:
        if o.action != "remove":
            continue
        here = text[o.start:o.end] == o.text
        out = [f for f in out if not (f.text == o.text and (
            (here and f.start < o.end and o.start < f.end) or (not here and o.entity_type in FOLLOWS_TEXT
                                                               and f.entity_type == o.entity_type)))]
    for o in overrides:
        if o.action != "add":
            continue
        spans = [(o.start, o.end)] if text[o.start:o.end] == o.text else []
        if not spans:
            pos = text.find(o.text)
            while pos >= 0 and o.text:
                spans.append((pos, pos + len(o.text)))
                pos = text.find(o.text, pos + 1)
        for start, end in spans:
            out = [f for f in out if not (f.start < end and start < f.end)]
            out.append(Finding(o.entity_type, start, end, text[start:end], 1.0))
    return sorted(out, key=lambda f: f.start)


def findings_for(policy: Policy, text: str, overrides: list[Override] = (), lang: Lang = "auto") -> list[Finding]:
    """Detected spans of one text, with overrides applied (runs the analyzer: ``redaction.api.detect_text``)."""
    from redaction.api import detect_text

    found = detect_text(policy, text, lang)
    return apply_overrides(text, found, list(overrides)) if overrides else found


def field_overrides(overrides: list[Override], path: str) -> list[Override]:
    """A field's own overrides plus every person override made in another field (they follow the person)."""
    return [o for o in overrides if o.field == path or o.entity_type in FOLLOWS_TEXT]


def document_findings(policy: Policy, document: dict[str, Any], overrides: list[Override] = (),
                      detected: dict[str, list[Finding]] | None = None) -> list[tuple[str, str, list[Finding]]]:
    """(path, text, findings) for every text field, each with its overrides applied.

    ``detected`` holds the stored findings per field; without it the analyzer runs (only where a version is
    written or re-detected)."""
    out = []
    for path, text in text_fields(document):
        mine = field_overrides(list(overrides), path)
        found = findings_for(policy, text) if detected is None else detected.get(path, [])
        out.append((path, text, apply_overrides(text, found, mine) if mine else found))
    return out


# -- pure rendering ------------------------------------------------------------------------------------------------
def _memo(policy: Policy) -> dict[Any, Any]:
    return policy._cache.setdefault("redaction.render", {})


def _action(policy: Policy, entity: str, audience: Audience) -> str:
    return _actions(policy, audience)[entity]


def _actions(policy: Policy, audience: Audience) -> dict[str, str]:
    """The tier table's action for every entity type, for one audience (worked out once per policy)."""
    memo = _memo(policy)
    found = memo.get(audience)
    if found is None:
        from policies.schema import ENTITY_NAMES

        found = memo[audience] = {entity: action_for(policy, entity, audience) for entity in ENTITY_NAMES}
    return found


#: Replacements remembered per policy, entity, action and script before the memo is emptied (bounds memory).
MEMO_LIMIT = 65536


class _Replacer:
    """One entity's replacement under one action and script: remembered per span text, worked out from the
    finding's stored parse where the operator has one (a new span costs banding and formatting, not parsing),
    else from the text. Both give the same string, so the memo is shared by findings with and without a parse."""

    __slots__ = ("memo", "plain", "tag", "shaped")

    def __init__(self, plain: Callable[[str], str], shaped: Any) -> None:
        self.memo: dict[str, str] = {}
        self.plain = plain
        self.tag, self.shaped = shaped if shaped is not None else (None, None)

    def __call__(self, span: str, shape: Any = None) -> str:
        shown = self.memo.get(span)
        if shown is None:
            if shape is not None and shape[0] == self.tag:
                shown = self.shaped(span, shape)
            else:
                shown = self.plain(span)
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[span] = shown
        return shown


def _replacer(policy: Policy, entity: str, action: str, script: str) -> _Replacer:
    memo = _memo(policy)
    key = ("op", entity, action, script)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _Replacer(*operators(policy, entity, action, script))
    return found


_START = attrgetter("start")


def _replacers(policy: Policy, audience: Audience, script: str) -> dict[str, _Replacer]:
    """The replacement function of every entity type for one audience and script (one lookup per call of
    ``render_findings`` instead of one per finding: rendering from stored findings is the read path)."""
    memo = _memo(policy)
    key = ("ops", audience, script)
    found = memo.get(key)
    if found is None:
        found = memo[key] = {entity: _replacer(policy, entity, action, script)
                             for entity, action in _actions(policy, audience).items()}
    return found


def render_findings(policy: Policy, text: str, findings: list[Finding], audience: Audience, *,
                    pseudonyms: Mapping[str, str] | None = None) -> str:
    """``text`` as ``audience`` may see it, from given findings: never runs the analyzer."""
    if not text or not findings:
        return text
    parts: list[str] = []
    pos = 0
    replacers: dict[str, _Replacer] | None = None
    actions = _actions(policy, audience)
    for f in sorted(findings, key=_START):
        if f.start < pos:                                  # overlapping (an override beside a finding): first wins
            continue
        action = actions.get(f.entity_type, "remove")
        if action == "keep":
            continue
        span = text[f.start:f.end]
        shown = None
        if f.entity_type == "PERSON" and action in ("generalise", "mask") and pseudonyms:
            shown = names.mask(span, pseudonyms)
        if shown is None:
            if replacers is None:
                replacers = _replacers(policy, audience, script_of(text))
            replace = replacers.get(f.entity_type) or _replacer(policy, f.entity_type, action, script_of(text))
            shown = replace(span, f.shape)
        parts.append(text[pos:f.start])
        parts.append(shown)
        pos = f.end
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def render_text(policy: Policy, text: str, audience: Audience, *, findings: list[Finding] | None = None,
                lang: Lang = "auto", pseudonyms: Mapping[str, str] | None = None) -> str:
    """``text`` as ``audience`` may see it (detects first when no findings are given)."""
    if not text:
        return text
    if findings is None:
        findings = findings_for(policy, text, lang=lang)
    if pseudonyms is None:
        pseudonyms = names.assign(text[f.start:f.end] for f in findings if f.entity_type == "PERSON")
    return render_findings(policy, text, findings, audience, pseudonyms=pseudonyms)


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
                    fields: list[tuple[str, str, list[Finding]]] | None = None,
                    pseudonyms: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A whole case document at the audience's tier: every text field, budget, metrics and owner.

    ``fields`` (from ``document_findings``) or ``detected`` (stored findings per field) make this pure;
    ``fields`` also lets a caller rendering several tiers resolve the overrides once. ``pseudonyms``
    (``redaction.pseudonyms.for_case`` over the case's versions) keeps masks consistent across versions; without
    it they are consistent within this version. A value that is not shown exactly is replaced by ``None`` with a
    ``display`` string beside it, so no exact figure survives in a structured field either.
    """
    return apply_patch(_copy(document), render_patch(policy, document, audience, overrides, detected=detected,
                                                     fields=fields, pseudonyms=pseudonyms))


def render_patch(policy: Policy, document: dict[str, Any], audience: Audience,
                 overrides: list[Override] = (), *, detected: dict[str, list[Finding]] | None = None,
                 fields: list[tuple[str, str, list[Finding]]] | None = None,
                 pseudonyms: Mapping[str, str] | None = None,
                 memo: dict[Any, str | None] | None = None) -> dict[str, Any]:
    """What ``render_document`` changes, as a patch for ``apply_patch``: changed top-level values, changed keys
    of nested mappings (body sections), whole lists where an item changed. Stored per display tier.

    ``memo`` remembers renderings by text, audience and the pseudonyms of the text's people (for many documents
    sharing texts and no overrides: ``casebook seed``).
    """
    patch: dict[str, Any] = {}
    if fields is None:
        fields = document_findings(policy, document, list(overrides), detected)
    if pseudonyms is None:
        owner = [document["owner"]] if document.get("owner") else []
        pseudonyms = names.assign(owner + names.mentions_in(fields))
    script = script_of(" ".join(t for _, t, _ in fields) or "")

    def once(key: Any, make: Any) -> Any:
        if memo is None:
            return make()
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def structured(entity: str, shown: str) -> str | None:
        return once((entity, shown, audience, script), lambda: _structured(policy, entity, shown, audience, script))

    for path, text, findings in fields:
        if not findings:
            continue
        people = tuple(names.mask(text[f.start:f.end], pseudonyms) for f in findings if f.entity_type == "PERSON")
        shown = once((text, audience, script, people),
                     lambda: render_findings(policy, text, findings, audience, pseudonyms=pseudonyms))
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
        action = _action(policy, "PERSON", audience)
        if action != "keep":
            display = names.mask(document["owner"], pseudonyms) if action in ("generalise", "mask") else None
            patch["owner"] = display or _structured(policy, "PERSON", document["owner"], audience, script)
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
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def shown_budget(budget: dict[str, Any]) -> str:
    """A rendered budget: its display (range or label) when the exact amount is withheld."""
    return budget.get("display") or f"{budget.get('amount')} {budget.get('currency')}"


def shown_metric(metric: dict[str, Any]) -> str:
    """A rendered metric: its display when the exact value is withheld."""
    return metric.get("display") or f"{metric.get('value')}{metric.get('unit') or ''}"

"""Who sees what: the policy's tier table turned into an audience and one operator per entity type."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from casebook.core.users import Actor
from policies.loader import Policy
from policies.schema import ENTITY_NAMES, redaction_action
from redaction import operators as ops


@dataclass(frozen=True)
class Audience:
    """The facts the tier table looks at: viewer clearance, the case's classification and the viewer's relation."""

    clearance: str
    classification: str
    own_department: bool = False
    viewer_is_author: bool = False


def audience_for(policy: Policy, actor: Actor, *, classification: str | None, department: str | None,
                 is_author: bool) -> Audience:
    """The audience an actor forms for one case; the system actor (flows, exports for admins) sees everything."""
    levels = policy.doc.classifications
    case_class = classification if classification in levels else levels[-1]  # unknown: treat as most sensitive
    if actor.is_system:
        return Audience(policy.doc.clearances[-1], case_class, True, True)
    return Audience(actor.clearance, case_class, own_department=bool(department) and actor.department == department,
                    viewer_is_author=is_author)


def action_for(policy: Policy, entity: str, audience: Audience) -> str:
    """The tier table's action (remembered per policy: the table is a pure function of these facts)."""
    memo = policy._cache.setdefault("redaction_actions", {})
    key = (entity, audience)
    found = memo.get(key)
    if found is None:
        found = memo[key] = redaction_action(policy.doc, entity, audience.classification, audience.clearance,
                                             own_department=audience.own_department,
                                             viewer_is_author=audience.viewer_is_author)
    return found


def actions(policy: Policy, audience: Audience) -> dict[str, str]:
    """keep / generalise / mask / remove for every entity type, for this audience."""
    return {entity: action_for(policy, entity, audience) for entity in ENTITY_NAMES}


def operator(policy: Policy, entity: str, action: str, script: str) -> Callable[[str], str]:
    """The function that rewrites one span of ``entity`` under ``action`` (text in, text out)."""
    return operators(policy, entity, action, script)[0]


#: The same rewriting from a span's stored parse (``redaction.operators``' shapes): (shape tag, (text, shape) -> str).
Shaped = tuple[str, Callable[[str, Any], str]]


def operators(policy: Policy, entity: str, action: str, script: str) -> tuple[Callable[[str], str], Shaped | None]:
    """The function that rewrites one span of ``entity`` under ``action``, and where the rewriting has a
    policy-independent parse (money and percentage ranges, masked digits) the same rewriting from that parse
    as stored with the finding at detection, so a rendering skips parsing."""
    red = policy.doc.redaction
    if action == "keep":
        return (lambda text: text), None
    if entity == "STRATEGY" and action in ("generalise", "mask"):
        from redaction.strategy import label

        return partial(label, policy, script=script), None
    if action == "generalise":
        if entity == "MONEY":
            mantissas = red.money_bucket_mantissas
            return (partial(ops.generalise_money, mantissas=mantissas),
                    (ops.MONEY_SHAPE, lambda _text, shape: ops.show_money(shape, mantissas)))
        if entity == "PERCENTAGE":
            edges, ratio_edges = red.percentage_band_edges, red.ratio_band_edges
            return (partial(ops.generalise_relative, edges=edges, ratio_edges=ratio_edges),
                    (ops.RELATIVE_SHAPE, lambda _text, shape: ops.show_relative(shape, edges, ratio_edges)))
        if entity == "PERSON":
            return ops.generalise_person, None
        action = "mask"  # contact data and numbers have no range: generalising them means masking
    if action == "mask":
        spec = red.masks.get(entity)  # type: ignore[call-overload]
        if entity == "EMAIL_ADDRESS" and spec:
            return partial(ops.mask_email, keep_start=spec.keep_start, keep_end=spec.keep_end), None
        if spec:
            return (partial(ops.mask_digits, keep_start=spec.keep_start, keep_end=spec.keep_end),
                    (ops.DIGITS_SHAPE, partial(ops.show_masked, keep_start=spec.keep_start, keep_end=spec.keep_end)))
        if entity == "PERSON":
            return ops.generalise_person, None
    return partial(lambda text, e: ops.remove_label(e, text, script), e=entity), None

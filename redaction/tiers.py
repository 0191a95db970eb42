"""Who sees what: the policy's tier table turned into an audience and one operator per entity type."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

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
    red = policy.doc.redaction
    if action == "keep":
        return lambda text: text
    if entity == "STRATEGY" and action in ("generalise", "mask"):
        from redaction.strategy import label

        return partial(label, policy, script=script)
    if action == "generalise":
        if entity == "MONEY":
            return partial(ops.generalise_money, mantissas=red.money_bucket_mantissas)
        if entity == "PERCENTAGE":
            return partial(ops.generalise_relative, edges=red.percentage_band_edges,
                           ratio_edges=red.ratio_band_edges)
        if entity == "PERSON":
            return ops.generalise_person
        action = "mask"  # contact data and numbers have no range: generalising them means masking
    if action == "mask":
        spec = red.masks.get(entity)  # type: ignore[call-overload]
        if entity == "EMAIL_ADDRESS" and spec:
            return partial(ops.mask_email, keep_start=spec.keep_start, keep_end=spec.keep_end)
        if spec:
            return partial(ops.mask_digits, keep_start=spec.keep_start, keep_end=spec.keep_end)
        if entity == "PERSON":
            return ops.generalise_person
    return partial(lambda text, e: ops.remove_label(e, text, script), e=entity)

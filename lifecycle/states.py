"""States and transitions declared as data (pytransitions style); review levels come from the policy's chains.

Order matters: for one trigger and source the first transition whose conditions pass wins.
"""

from __future__ import annotations

from typing import Any

DRAFT, SUBMITTED, RETURNED, APPROVED, SCHEDULED, PUBLISHED = "draft", "submitted", "returned", "approved", "scheduled", "published"
UPDATE_DUE, UPDATING, PENDING_EVALUATION = "update_due", "updating", "pending_evaluation"
RETIRED, ARCHIVED, WITHDRAWN, REJECTED = "retired", "archived", "withdrawn", "rejected"

#: Where a case's content may be edited (each edit is a new version).
EDITABLE_STATES = frozenset({DRAFT, RETURNED, UPDATING})
#: Final states: nothing leaves them.
FINAL_STATES = frozenset({ARCHIVED})
#: Events whose callers must give a reason (kept in the audit event).
REASON_REQUIRED = frozenset({"return_for_revision", "reject", "withdraw", "retire"})
#: Events that cannot be undone: interfaces ask for a confirmation before firing them.
IRREVERSIBLE = frozenset({"reject", "withdraw", "retire", "archive"})


def review_state(level: int) -> str:
    return f"review_l{level}"


def review_states(levels: int) -> list[str]:
    return [review_state(i) for i in range(1, levels + 1)]


def states(levels: int) -> list[str]:
    return [DRAFT, SUBMITTED, *review_states(levels), RETURNED, APPROVED, SCHEDULED, PUBLISHED, UPDATE_DUE,
            UPDATING, PENDING_EVALUATION, RETIRED, ARCHIVED, WITHDRAWN, REJECTED]


def transitions(levels: int) -> list[dict[str, Any]]:
    """Every transition; condition names are methods of ``lifecycle.machine.CaseModel``."""
    reviews = review_states(levels)
    table: list[dict[str, Any]] = [
        {"trigger": "submit", "source": [DRAFT, UPDATING], "dest": SUBMITTED, "conditions": ["intake_complete"]},
        {"trigger": "resubmit", "source": RETURNED, "dest": SUBMITTED, "conditions": ["intake_complete"]},
    ]
    for level in range(1, levels + 1):
        table.append({"trigger": "start_review", "source": SUBMITTED, "dest": review_state(level),
                      "conditions": [f"enters_at_l{level}"]})
    for level in range(1, levels + 1):
        table.append({"trigger": "approve", "source": review_state(level), "dest": APPROVED,
                      "conditions": ["at_last_level"]})
        if level < levels:
            table.append({"trigger": "approve", "source": review_state(level), "dest": review_state(level + 1)})
    table += [
        {"trigger": "return_for_revision", "source": reviews, "dest": RETURNED, "conditions": ["has_reason"]},
        {"trigger": "reject", "source": reviews, "dest": REJECTED, "conditions": ["has_reason"]},
        {"trigger": "publish", "source": APPROVED, "dest": PUBLISHED, "conditions": ["instant_channel"]},
        {"trigger": "publish", "source": APPROVED, "dest": SCHEDULED},
        {"trigger": "release", "source": SCHEDULED, "dest": PUBLISHED},
        {"trigger": "flag_update", "source": PUBLISHED, "dest": UPDATE_DUE},
        {"trigger": "start_update", "source": [PUBLISHED, UPDATE_DUE], "dest": UPDATING},
        {"trigger": "expire", "source": [PUBLISHED, UPDATE_DUE], "dest": PENDING_EVALUATION},
        {"trigger": "renew", "source": PENDING_EVALUATION, "dest": UPDATING},
        {"trigger": "retire", "source": [PUBLISHED, UPDATE_DUE, PENDING_EVALUATION], "dest": RETIRED,
         "conditions": ["has_reason"]},
        {"trigger": "archive", "source": [RETIRED, WITHDRAWN, REJECTED], "dest": ARCHIVED},
        {"trigger": "withdraw",
         "source": [DRAFT, SUBMITTED, *reviews, RETURNED, APPROVED, SCHEDULED, PUBLISHED, UPDATE_DUE, UPDATING,
                    PENDING_EVALUATION],
         "dest": WITHDRAWN, "conditions": ["has_reason"]},
    ]
    return table


def events(levels: int) -> list[str]:
    seen: dict[str, None] = {}
    for t in transitions(levels):
        seen.setdefault(t["trigger"], None)
    return list(seen)

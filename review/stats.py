"""Review statistics: pass rate, return reasons by section, cycle time per level, overdue counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from review.models import LIVE_TASK, ReviewDecision, ReviewTask

DECISIONS = ReviewDecision.__table__
TASKS = ReviewTask.__table__


def review_stats(conn: Connection, now: datetime) -> dict[str, Any]:
    rows = conn.execute(select(DECISIONS.c.level, DECISIONS.c.level_name, DECISIONS.c.decision,
                               DECISIONS.c.reasons, DECISIONS.c.cycle_seconds)).all()
    by_decision = Counter(r.decision for r in rows)
    sections: Counter[str] = Counter()
    cycle: dict[int, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for r in rows:
        for reason in r.reasons or []:
            if r.decision == "return":
                sections[reason["section"]] += 1
        cycle[r.level].append(r.cycle_seconds)
        names[r.level] = r.level_name
    overdue = conn.execute(select(TASKS.c.level, func.count()).where(  # walks ix_review_tasks_live
        text(LIVE_TASK), TASKS.c.due_at < now).group_by(TASKS.c.level)).all()
    total = len(rows)
    return {
        "decisions": total,
        "by_decision": dict(by_decision),
        "pass_rate": round(by_decision["approve"] / total, 4) if total else None,
        "return_reasons_by_section": dict(sections.most_common()),
        "cycle_hours_by_level": {f"{lvl} {names[lvl]}": round(sum(v) / len(v) / 3600, 2)
                                 for lvl, v in sorted(cycle.items())},
        "overdue_open_tasks_by_level": {int(level): int(n) for level, n in overdue},
    }

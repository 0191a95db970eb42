"""Operations dashboard figures (pure queries at the clock's time) and the inline SVG charts that show them."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

from access.rules import require
from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle import states as S
from lifecycle.jobs import stale_published
from lifecycle.models import AWAITING_SUBMISSION, LIVE, Case
from lifecycle.worklist import Rating
from review.due import due_review_work
from review.stats import review_stats

CASES = Case.__table__


def figures_for(ctx: AppContext, actor: Actor) -> dict[str, Any]:
    """The dashboard's figures for a reader allowed to read reports (policy permission ``reports.read``)."""
    require(ctx.policy, actor, "reports.read")
    return figures(ctx)


def figures(ctx: AppContext) -> dict[str, Any]:
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        by_state = dict(conn.execute(select(CASES.c.state, func.count()).group_by(CASES.c.state)).all())
        overdue_submissions = conn.execute(select(func.count()).select_from(CASES).where(
            text(AWAITING_SUBMISSION), CASES.c.submission_due < now)).scalar_one()
        due = due_review_work(conn, ctx.policy, ctx.calendar, now)

        def expiring(days: int) -> int:
            return conn.execute(select(func.count()).select_from(CASES).where(
                text(LIVE), CASES.c.expires_at > now,
                CASES.c.expires_at <= now + timedelta(days=days))).scalar_one()

        stale = conn.execute(select(func.count()).select_from(CASES).where(
            (CASES.c.state == S.UPDATE_DUE) | stale_published(ctx.policy, now))).scalar_one()
        ratings = dict(conn.execute(select(Rating.__table__.c.stars, func.count())
                                    .group_by(Rating.__table__.c.stars)).all())
        stats = review_stats(conn, now)
        soon, later = expiring(30), expiring(90)
    return {"by_state": {s: by_state.get(s, 0) for s in S.states(ctx.policy.max_review_levels)
                         if by_state.get(s)},
            "overdue_submissions": overdue_submissions,
            "overdue_reviews": sum(1 for d in due if d.status == "overdue"),
            "due_soon_reviews": sum(1 for d in due if d.status == "due_soon"),
            "expiring_30": soon, "expiring_90": later, "stale": stale,
            "ratings": {str(k): ratings.get(k, 0) for k in range(1, ctx.policy.doc.ratings.scale_max + 1)},
            "cycle_hours_by_level": stats.get("cycle_hours_by_level", {})}


def bar_chart(data: dict[str, float], *, title: str, width: int = 420, bar: int = 18) -> str:
    """A horizontal bar chart as inline SVG (no script, no external asset)."""
    top = max([float(v) for v in data.values()] + [1.0])
    height = 24 + bar * 1.5 * max(len(data), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}" '
             f'width="{width}" height="{height:.0f}" class="chart">', f"<title>{html.escape(title)}</title>"]
    for i, (label, value) in enumerate(data.items()):
        y = 20 + i * bar * 1.5
        w = (width - 190) * float(value) / top
        parts.append(f'<text x="0" y="{y + bar * 0.75:.0f}" font-size="12">{html.escape(str(label))}</text>')
        parts.append(f'<rect x="140" y="{y:.0f}" width="{w:.1f}" height="{bar}" fill="#3b6ea5"/>')
        parts.append(f'<text x="{145 + w:.0f}" y="{y + bar * 0.75:.0f}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)

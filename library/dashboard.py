"""The figures behind the operations dashboard and the monthly reports: pure queries at the clock's time.

``figures`` is the library as it stands now (overdue submissions and reviews, stale, expiring and expired
cases, review pass rate and cycle time per level, ratings, reuse, search time, NPS); ``period`` measures one
span of time (a month for the reports); ``trends`` is ``period`` for each of the last months (the dashboard's
trend charts). Months are calendar months in the policy's timezone. Nothing here writes; rendering (SVG charts,
pages, report files) is the caller's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select, text
from sqlalchemy.engine import Connection

from access.rules import require
from casebook.core.access_log import AccessEntry
from casebook.core.context import AppContext
from casebook.core.users import Actor
from library.usage import NPS, REUSE, SEARCHES
from lifecycle import states as S
from lifecycle.jobs import stale_published
from lifecycle.models import AWAITING_SUBMISSION, LIVE, Case
from lifecycle.worklist import Rating
from review.due import due_review_work
from review.models import ReviewDecision

CASES, RATINGS, DECISIONS, LOG = Case.__table__, Rating.__table__, ReviewDecision.__table__, AccessEntry.__table__
#: NPS bands (the method's own definition, not a policy choice): 9-10 promote, 0-6 detract.
PROMOTER_MIN, DETRACTOR_MAX = 9, 6


def figures_for(ctx: AppContext, actor: Actor) -> dict[str, Any]:
    """The dashboard's figures for a reader allowed to read reports (policy permission ``reports.read``)."""
    require(ctx.policy, actor, "reports.read")
    return figures(ctx)


def month_key(when: datetime, ctx: AppContext) -> str:
    return f"{when.astimezone(ctx.clock.tz):%Y-%m}"


def month_bounds(ctx: AppContext, month: str) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (YYYY-MM) and of the month after, in the policy's timezone."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=ctx.clock.tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=ctx.clock.tz)
    return start, end


def last_months(ctx: AppContext, count: int, *, include_current: bool = True) -> list[str]:
    """The last ``count`` months, oldest first (ending with this month, or with the previous one)."""
    local = ctx.clock.now().astimezone(ctx.clock.tz)
    year, mon = local.year, local.month
    if not include_current:
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


def previous_month(ctx: AppContext) -> str:
    return last_months(ctx, 1, include_current=False)[0]


def nps_score(scores: Sequence[int]) -> float | None:
    """Share of promoters minus share of detractors, -100 to 100; None without answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= PROMOTER_MIN)
    detractors = sum(1 for s in scores if s <= DETRACTOR_MAX)
    return round(100 * (promoters - detractors) / len(scores), 1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _cycle_by_level(conn: Connection, *where: Any) -> dict[str, float]:
    rows = conn.execute(select(DECISIONS.c.level, DECISIONS.c.level_name, func.avg(DECISIONS.c.cycle_seconds))
                        .where(*where).group_by(DECISIONS.c.level, DECISIONS.c.level_name)
                        .order_by(DECISIONS.c.level)).all()
    return {r.level_name: round(float(r[2]) / 3600, 1) for r in rows}


def now_figures(conn: Connection, ctx: AppContext) -> dict[str, Any]:
    """The library as it stands at the clock's time: what is overdue, stale, expiring or expired."""
    now = ctx.clock.now()
    due = due_review_work(conn, ctx.policy, ctx.calendar, now)

    def count(*where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(CASES).where(*where)).scalar_one())

    def expiring(days: int) -> int:
        return count(text(LIVE), CASES.c.expires_at > now, CASES.c.expires_at <= now + timedelta(days=days))

    return {"overdue_submissions": count(text(AWAITING_SUBMISSION), CASES.c.submission_due < now),
            "overdue_reviews": sum(1 for d in due if d.status == "overdue"),
            "due_soon_reviews": sum(1 for d in due if d.status == "due_soon"),
            "expiring_30": expiring(30), "expiring_90": expiring(90),
            "stale": count((CASES.c.state == S.UPDATE_DUE) | stale_published(ctx.policy, now)),
            "expired": count(CASES.c.state == S.PENDING_EVALUATION),
            "live": count(text(LIVE))}


def figures(ctx: AppContext) -> dict[str, Any]:
    """The dashboard's headline figures: the library now, review and ratings over all time, this month's use."""
    scale = ctx.policy.doc.ratings.scale_max
    with ctx.engine.connect() as conn:
        by_state = dict(conn.execute(select(CASES.c.state, func.count()).group_by(CASES.c.state)).all())
        current = now_figures(conn, ctx)
        decided = dict(conn.execute(select(DECISIONS.c.decision, func.count()).group_by(DECISIONS.c.decision)).all())
        stars = dict(conn.execute(select(RATINGS.c.stars, func.count()).group_by(RATINGS.c.stars)).all())
        cycle = _cycle_by_level(conn)
        reuse = dict(conn.execute(select(REUSE.c.outcome, func.count()).group_by(REUSE.c.outcome)).all())
    total_decisions = sum(decided.values())
    rated = sum(stars.values())
    month = period(ctx, *month_bounds(ctx, month_key(ctx.clock.now(), ctx)))
    return {"by_state": {s: by_state.get(s, 0) for s in S.states(ctx.policy.max_review_levels) if by_state.get(s)},
            **current,
            "decisions": total_decisions,
            "pass_rate": _ratio(decided.get("approve", 0), total_decisions),
            "ratings": {str(k): int(stars.get(k, 0)) for k in range(1, scale + 1)},
            "rating_count": rated,
            "rating_average": round(sum(k * v for k, v in stars.items()) / rated, 2) if rated else None,
            "cycle_hours_by_level": cycle,
            "reuse_by_outcome": {o: int(reuse.get(o, 0)) for o in ctx.policy.doc.reports.reuse_outcomes},
            "month": month}


def period(ctx: AppContext, start: datetime, end: datetime) -> dict[str, Any]:
    """What happened in [start, end): review decisions and cycle time, searches and their time, views and
    downloads, reuse marks and the reuse rate, ratings, and the NPS of the month ``start`` falls in."""
    ctx.flush_queues()                         # searches still queued in this process count too
    scale = ctx.policy.doc.ratings.scale_max
    success = set(ctx.policy.doc.reports.reuse_success)
    in_log = (LOG.c.at >= start, LOG.c.at < end)
    with ctx.engine.connect() as conn:
        decided = dict(conn.execute(select(DECISIONS.c.decision, func.count()).where(
            DECISIONS.c.decided_at >= start, DECISIONS.c.decided_at < end).group_by(DECISIONS.c.decision)).all())
        cycle = _cycle_by_level(conn, DECISIONS.c.decided_at >= start, DECISIONS.c.decided_at < end)
        in_searches = (SEARCHES.c.at >= start, SEARCHES.c.at < end)
        searches, ms_avg, searchers = conn.execute(select(func.count(), func.avg(SEARCHES.c.ms),
                                                          func.count(distinct(SEARCHES.c.actor)))
                                                   .where(*in_searches)).one()
        # the 95th percentile (nearest rank) without fetching the month's rows
        p95 = conn.execute(select(SEARCHES.c.ms).where(*in_searches).order_by(SEARCHES.c.ms)
                           .offset(max(0, math.ceil(0.95 * searches) - 1)).limit(1)).scalar() if searches else None
        empty = conn.execute(select(func.count()).select_from(SEARCHES).where(
            *in_searches, SEARCHES.c.results == 0)).scalar_one()
        actions = dict(conn.execute(select(LOG.c.action, func.count()).where(*in_log).group_by(LOG.c.action)).all())
        readers = conn.execute(select(func.count(distinct(LOG.c.actor))).where(*in_log)).scalar_one()
        pairs = conn.execute(select(func.count()).select_from(
            select(LOG.c.actor, LOG.c.case_key).where(*in_log, LOG.c.action == "view").distinct().subquery())
        ).scalar_one()
        top = conn.execute(select(LOG.c.case_key, func.count().label("n")).where(*in_log, LOG.c.action == "view")
                           .group_by(LOG.c.case_key).order_by(func.count().desc(), LOG.c.case_key).limit(10)).all()
        reuse = dict(conn.execute(select(REUSE.c.outcome, func.count()).where(
            REUSE.c.marked_at >= start, REUSE.c.marked_at < end).group_by(REUSE.c.outcome)).all())
        stars = dict(conn.execute(select(RATINGS.c.stars, func.count()).where(
            RATINGS.c.rated_at >= start, RATINGS.c.rated_at < end).group_by(RATINGS.c.stars)).all())
        answers = [int(s) for s in conn.execute(select(NPS.c.score).where(
            NPS.c.month == month_key(start, ctx))).scalars()]
    total_decisions, marks, rated = sum(decided.values()), sum(reuse.values()), sum(stars.values())
    return {"decisions": total_decisions,
            "pass_rate": _ratio(decided.get("approve", 0), total_decisions),
            "returns": int(decided.get("return", 0)),
            "cycle_hours_by_level": cycle,
            "searches": int(searches),
            "search_ms_avg": round(float(ms_avg), 1) if searches else None,
            "search_ms_p95": None if p95 is None else int(p95),
            "searches_empty": int(empty), "searchers": int(searchers),
            "views": int(actions.get("view", 0)), "downloads": int(actions.get("download", 0)),
            "readers": int(readers), "top_viewed": [(r.case_key, int(r.n)) for r in top],
            "reuse_marks": marks,
            "reuse_by_outcome": {o: int(reuse.get(o, 0)) for o in ctx.policy.doc.reports.reuse_outcomes},
            "reuse_success_rate": _ratio(sum(n for o, n in reuse.items() if o in success), marks),
            #: marks against the distinct (reader, case) views of the same span
            "reuse_rate": _ratio(marks, int(pairs)),
            "ratings": {str(k): int(stars.get(k, 0)) for k in range(1, scale + 1)},
            "rating_count": rated,
            "rating_average": round(sum(k * v for k, v in stars.items()) / rated, 2) if rated else None,
            "nps": nps_score(answers), "nps_answers": len(answers),
            "nps_distribution": {str(k): answers.count(k) for k in range(0, 11)}}


def trends(ctx: AppContext, months: int | None = None) -> dict[str, Any]:
    """``period`` for each of the last months (policy ``reports.trend_months``), oldest first, as series."""
    names = last_months(ctx, months or ctx.policy.doc.reports.trend_months)
    periods = [period(ctx, *month_bounds(ctx, m)) for m in names]
    keys = ("pass_rate", "decisions", "searches", "search_ms_avg", "views", "downloads", "reuse_marks",
            "reuse_rate", "rating_average", "rating_count", "nps")
    levels = list(dict.fromkeys(level for p in periods for level in p["cycle_hours_by_level"]))
    return {"months": names, **{k: [p[k] for p in periods] for k in keys},
            "cycle_hours_by_level": {lvl: [p["cycle_hours_by_level"].get(lvl) for p in periods] for lvl in levels}}

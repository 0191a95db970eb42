"""The yearly health check (and the quarterly retire review): candidates to retire (ranked by age, staleness,
use and ratings together), to update (data older than the policy allows) and to restructure (structural gaps in
the document itself), each share of the live cases rounded down; written as HTML and Markdown, with a task per
case for operations and operations notified."""

from __future__ import annotations

from collections import Counter

import html
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from casebook.core.access_log import AccessEntry
from casebook.core.audit import AuditEvent
from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.i18n import format_number, gettext
from casebook.core.reasons import coded, encode, reason
from casebook.core.reasons import render as render_reason
from lifecycle import states as S
from lifecycle.document import SECTIONS
from lifecycle.jobs import CASES, add_work_item, rating_stats
from lifecycle.models import CaseVersion
from library.links import superseded
from policies.loader import Policy
from notifications.audience import case_ref, users_with_role
from notifications.outbox import enqueue


#: Audit actions that counted as a use of a case before views and downloads moved to the access log (older
#: stores still hold them); every access-log entry (a view or a download) is a use.
USE_ACTIONS = ("case.view", "case.download")


@dataclass(frozen=True)
class Live:
    """What the selection needs of one live case: its row facts, published document, use and ratings."""

    case: Any
    document: dict[str, Any]
    uses: int
    rating: tuple[float, int]
    #: The key of a live case that supersedes this one (a ``supersedes`` link), if any.
    superseded_by: str | None = None


def _months(later: datetime, earlier: datetime | None) -> float:
    return max(0.0, (later - earlier).days / 30.44) if earlier else 0.0


def outdated_score(policy: Policy, item: Live, now: datetime, most_uses: int) -> float:
    """0 (current, used, well rated) to 1 (old, stale, unused, poorly rated), by the policy's weights."""
    w = policy.doc.health_check.weights
    c = item.case
    validity = policy.doc.libraries[c.library].validity_months if c.library in policy.doc.libraries else 12
    signs = {
        "age": min(1.0, _months(now, c.published_at or c.created_at) / validity),
        "staleness": min(1.0, _months(now, c.content_updated_at or c.created_at)
                         / policy.doc.lifecycle.staleness_months),
        "usage": 1.0 - (min(1.0, item.uses / most_uses) if most_uses else 0.0),
        "rating": 1.0 - item.rating[0] / policy.doc.ratings.scale_max if item.rating[1] else 0.5,
        "superseded": 1.0 if item.superseded_by else 0.0,
    }
    total = w.age + w.staleness + w.usage + w.rating + w.superseded
    return round(sum(getattr(w, k) * v for k, v in signs.items()) / total, 4) if total else 0.0


def structural_gaps(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What the document itself lacks (coded reason parts): template sections (reflection is the lessons
    module), traceability of figures (a source per metric, data sources with a validation method)."""
    body = document.get("body") or {}
    gaps = [coded("gap_section_empty", section=name) for name in SECTIONS if not (body.get(name) or "").strip()]
    unsourced = [m.get("name", "?") for m in document.get("metrics") or [] if not m.get("source")]
    if unsourced:
        gaps.append(coded("gap_unsourced_figures", names=unsourced))
    sources = document.get("data_sources") or []
    if not sources:
        gaps.append(coded("gap_no_sources"))
    elif any(not s.get("validation_method") for s in sources):
        gaps.append(coded("gap_unvalidated_sources"))
    return gaps


def share_of(share: float, n: int) -> int:
    """The policy's share of ``n`` cases, rounded down (a proposal never outgrows its share), never negative."""
    return max(0, math.floor(share * n + 1e-9))


def select_candidates(policy: Policy, live: list[Live], now: datetime, shares: dict[str, float]
                      ) -> dict[str, list[dict[str, Any]]]:
    """Pure selection: retire the most outdated (all signs together), update those whose data is older than
    the policy allows (oldest first), restructure those with structural gaps (most gaps first); a case is
    proposed for one thing only, in that order."""
    most_uses = max((i.uses for i in live), default=0)
    scores = {i.case.id: outdated_score(policy, i, now, most_uses) for i in live}
    taken: set[int] = set()
    out: dict[str, list[dict[str, Any]]] = {}

    def pick(group: str, ranked: list[tuple[Live, str]], extra: int = 0) -> None:
        chosen = [(i, why) for i, why in ranked if i.case.id not in taken][:share_of(shares.get(group, 0), len(live))
                                                                            + extra]
        taken.update(i.case.id for i, _ in chosen)
        out[group] = [{"case": case_ref(i.case), "case_id": i.case.id, "reason": why, "score": scores[i.case.id]}
                      for i, why in chosen]

    if "retire" in shares:
        # A case a live case supersedes is proposed beyond the share (a person said it is replaced), first;
        # policy weight ``superseded`` 0 turns that reason off.
        replaced = {i.case.id for i in live if i.superseded_by} if policy.doc.health_check.weights.superseded else set()
        ranked = sorted(live, key=lambda i: (i.case.id not in replaced, -scores[i.case.id], i.case.id))

        def why(i: Live) -> str:
            base = coded("outdated", score=round(scores[i.case.id], 2), uses=i.uses, ratings=i.rating[1],
                         content_on=(i.case.content_updated_at or i.case.created_at).date().isoformat())
            return encode(coded("superseded", by=i.superseded_by), base) if i.case.id in replaced else encode(base)

        pick("retire", [(i, why(i)) for i in ranked], extra=len(replaced))
    if "update" in shares:
        limit = policy.doc.health_check.data_max_age_months
        old = [i for i in live if _months(now, i.case.content_updated_at or i.case.created_at) > limit]
        old.sort(key=lambda i: (i.case.content_updated_at or i.case.created_at, i.case.id))
        pick("update", [(i, reason("data_old", months=limit, content_on=(i.case.content_updated_at
                                                                         or i.case.created_at).date().isoformat()))
                        for i in old])
    if "restructure" in shares:
        gaps = {i.case.id: structural_gaps(i.document) for i in live}
        ranked = sorted((i for i in live if gaps[i.case.id]), key=lambda i: (-len(gaps[i.case.id]), i.case.id))
        pick("restructure", [(i, encode(*gaps[i.case.id])) for i in ranked])
    return out


def candidates(ctx: AppContext, shares: dict[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Live cases with their published documents, uses within the policy's window and ratings, selected."""
    now = ctx.clock.now()
    since = add_months(now, -ctx.policy.doc.health_check.usage_window_months)
    versions = CaseVersion.__table__
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(CASES, versions.c.document)
                            .join(versions, (versions.c.case_id == CASES.c.id)
                                  & (versions.c.number == func.coalesce(CASES.c.published_version_no,
                                                                        CASES.c.current_version_no)))
                            .where(CASES.c.state.in_([S.PUBLISHED, S.UPDATE_DUE])).order_by(CASES.c.id)).all()
        ev = AuditEvent.__table__.c
        uses = Counter(dict(conn.execute(select(ev.subject_id, func.count())
                                         .where(ev.subject_type == "case", ev.action.in_(USE_ACTIONS), ev.at >= since)
                                         .group_by(ev.subject_id)).all()))
        log = AccessEntry.__table__.c
        uses.update(dict(conn.execute(select(log.case_key, func.count()).where(log.at >= since)
                                      .group_by(log.case_key)).all()))
        stats = rating_stats(conn)
        replaced = superseded(conn)
    live = [Live(r, r.document or {}, int(uses.get(r.key, 0)), stats.get(r.id, (0.0, 0)), replaced.get(r.id))
            for r in rows]
    return select_candidates(ctx.policy, live, now, shares)


def write_report(path_base: Path, title: str, found: dict[str, list[dict[str, Any]]], locale: str
                 ) -> tuple[Path, Path]:
    """Markdown and HTML of the same report, in ``locale`` (the policy's ``reports.locale``): headings, groups
    and each proposal's reason from the catalog."""
    t = lambda key, **p: gettext(key, locale, **p)  # noqa: E731
    path_base.parent.mkdir(parents=True, exist_ok=True)
    cols = [t("hc.col.case"), t("hc.col.title"), t("hc.col.score"), t("hc.col.reason")]
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for group, items in found.items():
        heading = f"{t('hc.group.' + group)} ({len(items)})"
        md += [f"## {heading}", "", "| " + " | ".join(cols) + " |", "|---|---|---|---|"]
        body += [f"<h2>{html.escape(heading)}</h2>",
                 "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"]
        for i in items:
            c, why, score = i["case"], render_reason(i["reason"], locale), format_number(i["score"], locale)
            md.append(f"| {c['key']} | {c['title']} | {score} | {why} |")
            body.append(f"<tr><td>{html.escape(c['key'])}</td><td>{html.escape(c['title'])}</td>"
                        f"<td>{score}</td><td>{html.escape(why)}</td></tr>")
        md.append("")
        body.append("</table>")
    md_path, html_path = path_base.with_suffix(".md"), path_base.with_suffix(".html")
    md_path.write_text("\n".join(md), encoding="utf-8")
    html_path.write_text(f"<!doctype html><html lang='{locale}'><meta charset='utf-8'><title>" + html.escape(title)
                         + "</title>" + "\n".join(body), encoding="utf-8")
    return md_path, html_path


def _run(ctx: AppContext, name: str, period: str, shares: dict[str, float]) -> dict[str, int]:
    now = ctx.clock.now()
    found = candidates(ctx, shares)
    reports = ctx.settings.reports_dir or (ctx.settings.home / "reports")
    locale = ctx.policy.doc.reports.locale
    title = f"{gettext('hc.title.' + name, locale)} {period}"
    md_path, _ = write_report(reports / f"{name}-{period}", title, found, locale)
    due = ctx.calendar.add_workdays(now, ctx.policy.doc.lifecycle.evaluation_task_working_days)
    tasks = 0
    with ctx.engine.begin() as conn:
        for group, items in found.items():
            for item in items:
                case = item["case"]
                tasks += add_work_item(conn, ctx, key=f"{name}|{group}|{case['key']}|{period}", kind=f"health_{group}",
                                       case_id=item["case_id"], role=ctx.policy.doc.operations_role, reason=item["reason"], due_at=due)
        counts = {g: len(v) for g, v in found.items()}
        counts = {"retire": 0, "update": 0, "restructure": 0} | counts
        for user in users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role):
            enqueue(conn, kind="health_check", subject_id=name, recipient=user, period=period,
                    payload={"year": period, "counts": counts, "report": str(md_path)}, now=now, digestible=False)
    return {"health_checks": 1, "health_tasks": tasks}


def yearly_health_check(ctx: AppContext) -> dict[str, int]:
    hp = ctx.policy.doc.health_check
    year = str(ctx.clock.now().astimezone(ctx.clock.tz).year - 1)   # runs in January, about the year before
    return _run(ctx, "yearly_health_check", year, {"retire": hp.yearly_retire_share, "update": hp.yearly_update_share,
                                                   "restructure": hp.yearly_restructure_share})


def quarterly_review(ctx: AppContext) -> dict[str, int]:
    local = ctx.clock.now().astimezone(ctx.clock.tz)
    period = f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return _run(ctx, "quarterly_review", period, {"retire": ctx.policy.doc.health_check.quarterly_retire_share})

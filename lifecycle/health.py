"""The yearly health check (and the quarterly retire review): candidates to retire, update or restructure
with reasons, written as HTML and Markdown, with tasks created and operations notified."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from sqlalchemy import select

from casebook.core.context import AppContext
from lifecycle import states as S
from lifecycle.jobs import CASES, add_work_item, rating_stats, value_score
from notifications.audience import case_ref, users_with_role
from notifications.outbox import enqueue


def candidates(ctx: AppContext, shares: dict[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Pure selection over stored state: lowest value score → retire; oldest content → update; low-rated but
    much-read → restructure. Each list holds ceil(share × live cases) entries with a reason."""
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(CASES).where(CASES.c.state.in_([S.PUBLISHED, S.UPDATE_DUE]))
                            .order_by(CASES.c.id)).all()
        stats = rating_stats(conn)
    scored = sorted(rows, key=lambda c: (value_score(ctx.policy, c, stats, now), c.id))
    taken: set[int] = set()
    out: dict[str, list[dict[str, Any]]] = {}

    def pick(name: str, ordered: list[Any], reason: Any) -> None:
        n = math.ceil(shares.get(name, 0) * len(rows))
        chosen = [c for c in ordered if c.id not in taken][:n]
        taken.update(c.id for c in chosen)
        out[name] = [{"case": case_ref(c), "reason": reason(c),
                      "score": value_score(ctx.policy, c, stats, now)} for c in chosen]

    pick("retire", scored, lambda c: f"lowest value score ({stats.get(c.id, (0, 0))[1]} ratings)")
    pick("update", sorted(rows, key=lambda c: (c.content_updated_at or c.created_at, c.id)),
         lambda c: f"content unchanged since {(c.content_updated_at or c.created_at).date()}")
    restructure = sorted((c for c in rows if c.id in stats), key=lambda c: (-stats[c.id][1], stats[c.id][0]))
    pick("restructure", restructure,
         lambda c: f"{stats[c.id][1]} ratings averaging {stats[c.id][0]:.1f}: widely read, structure to revisit")
    return out


def write_report(path_base: Path, title: str, found: dict[str, list[dict[str, Any]]]) -> tuple[Path, Path]:
    """Markdown and HTML of the same report (titles as stored: reports are for operations)."""
    path_base.parent.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for group, items in found.items():
        md += [f"## {group} ({len(items)})", "", "| case | title | score | reason |", "|---|---|---|---|"]
        body += [f"<h2>{html.escape(group)} ({len(items)})</h2>",
                 "<table><tr><th>case</th><th>title</th><th>score</th><th>reason</th></tr>"]
        for i in items:
            c = i["case"]
            md.append(f"| {c['key']} | {c['title']} | {i['score']} | {i['reason']} |")
            body.append(f"<tr><td>{html.escape(c['key'])}</td><td>{html.escape(c['title'])}</td>"
                        f"<td>{i['score']}</td><td>{html.escape(i['reason'])}</td></tr>")
        md.append("")
        body.append("</table>")
    md_path, html_path = path_base.with_suffix(".md"), path_base.with_suffix(".html")
    md_path.write_text("\n".join(md), encoding="utf-8")
    html_path.write_text("<!doctype html><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
                         + "\n".join(body), encoding="utf-8")
    return md_path, html_path


def _run(ctx: AppContext, name: str, period: str, shares: dict[str, float]) -> dict[str, int]:
    now = ctx.clock.now()
    found = candidates(ctx, shares)
    reports = ctx.settings.reports_dir or (ctx.settings.home / "reports")
    md_path, _ = write_report(reports / f"{name}-{period}", f"Casebook {name.replace('_', ' ')} {period}", found)
    due = ctx.calendar.add_workdays(now, ctx.policy.doc.lifecycle.evaluation_task_working_days)
    tasks = 0
    with ctx.engine.begin() as conn:
        for group, items in found.items():
            for item in items:
                case = item["case"]
                tasks += add_work_item(conn, ctx, key=f"{name}|{group}|{case['key']}|{period}", kind=f"health_{group}",
                                       case_id=None, role=ctx.policy.doc.operations_role, reason=item["reason"], due_at=due)
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

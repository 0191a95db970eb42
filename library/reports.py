"""The monthly usage and effect reports: composed from ``library.dashboard``'s figures, written once per month
as HTML (with SVG charts), Markdown and CSV (plus the figures as JSON, from which the reports page shows each
reader the report in their own language), and read back for the roles policy names (``reports.readers``).

``usage-YYYY-MM``: how the library was used (searches and their time, views, downloads, readers, the most read
cases, reuse marks, NPS answers). ``effect-YYYY-MM``: what it achieved (review pass rate and cycle time per
level, ratings, reuse and its outcomes, NPS, and the library's state when the report was written: overdue,
stale, expiring and expired cases). The files are written in the policy's ``reports.locale``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from casebook.core.context import AppContext
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.i18n import format_number, format_percent, gettext
from casebook.core.users import Actor
from library import dashboard
from library.charts import Series, bar_chart, distribution_chart, line_chart
from lifecycle import states as S
from lifecycle.models import Case
from redaction.stored import stored_title
from redaction.tiers import Audience

KINDS = ("usage", "effect")
FORMATS = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
           "csv": "text/csv; charset=utf-8", "json": "application/json"}
NAME = re.compile(r"^(usage|effect)-(\d{4})-(0[1-9]|1[0-2])$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Months of history in a report's trend charts (the report's month last).
REPORT_TREND_MONTHS = 6
CASES = Case.__table__


# -- who may read, where they are -----------------------------------------------------------------------------

def folder(ctx: AppContext) -> Path:
    """The reports folder: ``CASEBOOK_REPORTS_DIR``, else ``reports`` under the store's home."""
    return ctx.settings.reports_dir or (ctx.settings.home / "reports")


def may_read(ctx: AppContext, actor: Actor) -> bool:
    """Whether ``actor``'s role is one of the policy's report readers (``reports.readers``)."""
    return actor.is_system or actor.role in ctx.policy.doc.reports.readers


def require_reader(ctx: AppContext, actor: Actor) -> None:
    if not may_read(ctx, actor):
        raise Forbidden.of("err_not_report_reader", role=actor.role)


def check_month(month: str) -> str:
    if not MONTH.match(month or ""):
        raise InvalidInput([Problem.of("month", "err_month_format", value=month)], "report")
    return month


# -- composition ----------------------------------------------------------------------------------------------

def _titles(ctx: AppContext, keys: list[str]) -> dict[str, str | None]:
    """Case titles at the tier every report reader may see (the lowest clearance among the readers' roles,
    another department's view); none for a withdrawn case."""
    clearances = ctx.policy.doc.clearances
    roles = [ctx.policy.doc.roles[r] for r in ctx.policy.doc.reports.readers if r in ctx.policy.doc.roles]
    lowest = min((clearances.index(r.clearance) for r in roles), default=0)
    out: dict[str, str | None] = {}
    with ctx.engine.connect() as conn:
        for row in conn.execute(select(CASES).where(CASES.c.key.in_(keys))).all():
            if row.state == S.WITHDRAWN or row.withdrawn_at is not None:
                out[row.key] = None
                continue
            version = row.published_version_no or row.current_version_no
            out[row.key] = stored_title(conn, ctx.policy, row.id, version, row.title,
                                        Audience(clearances[lowest], row.classification))
    return out


def compose(ctx: AppContext, month: str) -> dict[str, dict[str, Any]]:
    """Both reports' figures for ``month`` (YYYY-MM), with trend series over the months before it."""
    check_month(month)
    ctx.access_log.flush()                     # views and downloads still queued in this process count too
    figures = dashboard.period(ctx, *dashboard.month_bounds(ctx, month))
    months = _months_up_to(month, REPORT_TREND_MONTHS)
    periods = [figures if m == month else dashboard.period(ctx, *dashboard.month_bounds(ctx, m)) for m in months]
    trend = {"months": months, **{k: [p[k] for p in periods] for k in
                                  ("searches", "search_ms_avg", "views", "downloads", "reuse_marks", "pass_rate",
                                   "rating_average", "nps")}}
    titles = _titles(ctx, [k for k, _ in figures["top_viewed"]])
    with ctx.engine.connect() as conn:
        library = dashboard.now_figures(conn, ctx)
    written = ctx.clock.now().isoformat()
    top = [{"key": k, "title": titles.get(k), "views": n} for k, n in figures["top_viewed"]]
    common = {"month": month, "written_at": written}
    return {"usage": {"kind": "usage", **common, "figures": {k: v for k, v in figures.items() if k != "top_viewed"},
                      "top_viewed": top, "trend": trend},
            "effect": {"kind": "effect", **common, "figures": {k: v for k, v in figures.items() if k != "top_viewed"},
                       "library": library, "trend": trend,
                       "levels": list(figures["cycle_hours_by_level"])}}


def _months_up_to(month: str, count: int) -> list[str]:
    year, mon = (int(p) for p in month.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


# -- rendering (one list of rows and charts, three formats) ---------------------------------------------------

def _pct(value: float | None, locale: str) -> str:
    return "–" if value is None else format_percent(value, locale, digits=1)


def _num(value: float | int | None, locale: str, digits: int | None = None) -> str:
    if value is None:
        return "–"
    return format_number(value, locale, digits=digits if digits is not None else (0 if float(value).is_integer() else 1))


def rows(data: dict[str, Any], locale: str, label: Any = None) -> list[tuple[str, str, str, Any]]:
    """The report's headline figures as (key, label, shown value, raw value), in reading order."""
    t = lambda key, **p: gettext(key, locale, **p)  # noqa: E731
    f = data["figures"]
    if data["kind"] == "usage":
        items = [("searches", _num(f["searches"], locale), f["searches"]),
                 ("searchers", _num(f["searchers"], locale), f["searchers"]),
                 ("search_ms_avg", _num(f["search_ms_avg"], locale, 0), f["search_ms_avg"]),
                 ("search_ms_p95", _num(f["search_ms_p95"], locale, 0), f["search_ms_p95"]),
                 ("searches_empty", _num(f["searches_empty"], locale), f["searches_empty"]),
                 ("views", _num(f["views"], locale), f["views"]),
                 ("downloads", _num(f["downloads"], locale), f["downloads"]),
                 ("readers", _num(f["readers"], locale), f["readers"]),
                 ("reuse_marks", _num(f["reuse_marks"], locale), f["reuse_marks"]),
                 ("nps_answers", _num(f["nps_answers"], locale), f["nps_answers"])]
    else:
        lib = data["library"]
        items = [("pass_rate", _pct(f["pass_rate"], locale), f["pass_rate"]),
                 ("decisions", _num(f["decisions"], locale), f["decisions"]),
                 ("returns", _num(f["returns"], locale), f["returns"]),
                 ("rating_average", _num(f["rating_average"], locale, 2), f["rating_average"]),
                 ("rating_count", _num(f["rating_count"], locale), f["rating_count"]),
                 ("reuse_rate", _pct(f["reuse_rate"], locale), f["reuse_rate"]),
                 ("reuse_success_rate", _pct(f["reuse_success_rate"], locale), f["reuse_success_rate"]),
                 ("nps", _num(f["nps"], locale, 0), f["nps"]),
                 ("overdue_submissions", _num(lib["overdue_submissions"], locale), lib["overdue_submissions"]),
                 ("overdue_reviews", _num(lib["overdue_reviews"], locale), lib["overdue_reviews"]),
                 ("stale", _num(lib["stale"], locale), lib["stale"]),
                 ("expiring_30", _num(lib["expiring_30"], locale), lib["expiring_30"]),
                 ("expiring_90", _num(lib["expiring_90"], locale), lib["expiring_90"]),
                 ("expired", _num(lib["expired"], locale), lib["expired"])]
    return [(key, t(f"rpt.fig.{key}"), shown, raw) for key, shown, raw in items]


def charts(data: dict[str, Any], locale: str, label: Any = None) -> list[str]:
    """The report's SVG charts (each with its table alternative). ``label`` names policy codes (review levels)
    in ``locale``; the policy's own labels when the caller passes ``ctx.policy.label``."""
    t = lambda key, **p: gettext(key, locale, **p)  # noqa: E731
    name = (lambda code: (label(code, locale) if label else None) or code)
    f, tr = data["figures"], data["trend"]
    month_axis = t("rpt.axis.month")
    if data["kind"] == "usage":
        return [
            line_chart(t("rpt.chart.activity"), tr["months"],
                       [Series(t("rpt.fig.searches"), tr["searches"]), Series(t("rpt.fig.views"), tr["views"]),
                        Series(t("rpt.fig.downloads"), tr["downloads"]),
                        Series(t("rpt.fig.reuse_marks"), tr["reuse_marks"])],
                       x_label=month_axis, y_label=t("rpt.axis.count"), locale=locale),
            line_chart(t("rpt.chart.search_time"), tr["months"],
                       [Series(t("rpt.fig.search_ms_avg"), tr["search_ms_avg"])],
                       x_label=month_axis, y_label=t("rpt.axis.ms"), locale=locale, digits=0),
        ]
    lib = data["library"]
    outcomes = list(f["reuse_by_outcome"])
    return [
        line_chart(t("rpt.chart.pass_rate"), tr["months"],
                   [Series(t("rpt.fig.pass_rate"), [None if v is None else round(100 * v, 1)
                                                    for v in tr["pass_rate"]])],
                   x_label=month_axis, y_label=t("rpt.axis.percent"), locale=locale),
        bar_chart(t("rpt.chart.cycle"), [name(lvl) for lvl in f["cycle_hours_by_level"]],
                  [Series(t("rpt.fig.cycle_hours"), list(f["cycle_hours_by_level"].values()))],
                  x_label=t("rpt.axis.level"), y_label=t("rpt.axis.hours"), locale=locale),
        distribution_chart(t("rpt.chart.ratings"), [t("rpt.stars", n=k) for k in f["ratings"]],
                           list(f["ratings"].values()), name=t("rpt.fig.rating_count"),
                           x_label=t("rpt.axis.stars"), y_label=t("rpt.axis.count"), locale=locale),
        bar_chart(t("rpt.chart.reuse"), [t(f"rpt.outcome.{o}") for o in outcomes],
                  [Series(t("rpt.fig.reuse_marks"), [f["reuse_by_outcome"][o] for o in outcomes])],
                  x_label=t("rpt.axis.outcome"), y_label=t("rpt.axis.count"), locale=locale),
        distribution_chart(t("rpt.chart.nps"), [str(k) for k in f["nps_distribution"]],
                           list(f["nps_distribution"].values()), name=t("rpt.fig.nps_answers"),
                           x_label=t("rpt.axis.nps_score"), y_label=t("rpt.axis.count"), locale=locale),
        bar_chart(t("rpt.chart.library"), [t(f"rpt.fig.{k}") for k in
                                           ("overdue_submissions", "stale", "expiring_30", "expiring_90", "expired")],
                  [Series(t("rpt.axis.cases"), [lib[k] for k in ("overdue_submissions", "stale", "expiring_30",
                                                                  "expiring_90", "expired")])],
                  x_label=t("rpt.axis.measure"), y_label=t("rpt.axis.cases"), locale=locale),
    ]


def title(data: dict[str, Any], locale: str) -> str:
    return gettext(f"rpt.title.{data['kind']}", locale, month=data["month"])


def body_html(data: dict[str, Any], locale: str, label: Any = None, *, case_link: str = "/cases/{key}") -> str:
    """The report as an HTML fragment (headline figures, charts, the most read cases): the written file and
    the reports page show the same."""
    t = lambda key, **p: gettext(key, locale, **p)  # noqa: E731
    e = html.escape
    out = ['<dl class="figures report-figures">']
    for key, name, shown, _ in rows(data, locale):
        out.append(f'<div class="figure" id="fig-{e(key)}"><dt>{e(name)}</dt><dd>{e(shown)}</dd></div>')
    out.append("</dl>")
    out.append('<div class="charts">' + "".join(charts(data, locale, label)) + "</div>")
    if data["kind"] == "usage":
        out.append(f"<h2>{e(t('rpt.top_viewed'))}</h2>")
        if data["top_viewed"]:
            out.append(f'<table class="report-table"><thead><tr><th scope="col">{e(t("rpt.col.case"))}</th>'
                       f'<th scope="col">{e(t("rpt.col.title"))}</th><th scope="col">{e(t("rpt.fig.views"))}</th>'
                       "</tr></thead><tbody>")
            for row in data["top_viewed"]:
                link = e(case_link.format(key=row["key"]))
                out.append(f'<tr><td><a href="{link}">{e(row["key"])}</a></td>'
                           f'<td>{e(row["title"] or t("rpt.title_withheld"))}</td>'
                           f'<td>{e(_num(row["views"], locale))}</td></tr>')
            out.append("</tbody></table>")
        else:
            out.append(f'<p class="empty">{e(t("rpt.none_viewed"))}</p>')
    out.append(f'<p class="note">{e(t("rpt.definitions"))}</p>')
    return "\n".join(out)


def render_html(data: dict[str, Any], locale: str, label: Any = None) -> str:
    """A standalone HTML file (inline style, no external asset) of the report."""
    heading = html.escape(title(data, locale))
    style = ("body{font-family:system-ui,'Noto Sans CJK TC','Noto Sans CJK SC',sans-serif;color:#1f2933;"
             "max-width:60rem;margin:2rem auto;padding:0 1rem}dl.figures{display:grid;grid-template-columns:"
             "repeat(auto-fill,minmax(12rem,1fr));gap:.75rem}.figure{border:1px solid #d5dbe1;border-radius:6px;"
             "padding:.5rem .75rem}dt{color:#52606d;font-size:.9rem}dd{margin:0;font-size:1.5rem;font-weight:600}"
             "figure.chart{margin:1.5rem 0}table{border-collapse:collapse}th,td{border:1px solid #d5dbe1;"
             "padding:.25rem .5rem;text-align:left}")
    written = gettext("rpt.written_at", locale, at=data["written_at"][:16].replace("T", " "))
    return (f'<!doctype html>\n<html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
            f"<title>{heading}</title><style>{style}</style></head><body><main><h1>{heading}</h1>"
            f"<p>{html.escape(written)}</p>{body_html(data, locale, label)}</main></body></html>\n")


def render_markdown(data: dict[str, Any], locale: str, label: Any = None) -> str:
    t = lambda key, **p: gettext(key, locale, **p)  # noqa: E731
    md = [f"# {title(data, locale)}", "", t("rpt.written_at", at=data["written_at"][:16].replace("T", " ")), "",
          f"| {t('rpt.col.measure')} | {t('rpt.col.value')} |", "|---|---:|"]
    md += [f"| {name} | {shown} |" for _, name, shown, _ in rows(data, locale)]
    f = data["figures"]
    if data["kind"] == "usage":
        md += ["", f"## {t('rpt.top_viewed')}", ""]
        if data["top_viewed"]:
            md += [f"| {t('rpt.col.case')} | {t('rpt.col.title')} | {t('rpt.fig.views')} |", "|---|---|---:|"]
            md += [f"| {r['key']} | {(r['title'] or t('rpt.title_withheld')).replace('|', '/')} | "
                   f"{_num(r['views'], locale)} |" for r in data["top_viewed"]]
        else:
            md.append(t("rpt.none_viewed"))
    else:
        name = (lambda code: (label(code, locale) if label else None) or code)
        md += ["", f"## {t('rpt.chart.cycle')}", "", f"| {t('rpt.axis.level')} | {t('rpt.axis.hours')} |",
               "|---|---:|"]
        md += [f"| {name(k)} | {_num(v, locale, 1)} |" for k, v in f["cycle_hours_by_level"].items()]
        md += ["", f"## {t('rpt.chart.reuse')}", "", f"| {t('rpt.axis.outcome')} | {t('rpt.axis.count')} |",
               "|---|---:|"]
        md += [f"| {t(f'rpt.outcome.{o}')} | {_num(n, locale)} |" for o, n in f["reuse_by_outcome"].items()]
        md += ["", f"## {t('rpt.chart.ratings')}", "", f"| {t('rpt.axis.stars')} | {t('rpt.axis.count')} |",
               "|---|---:|"]
        md += [f"| {k} | {_num(n, locale)} |" for k, n in f["ratings"].items()]
    md += ["", t("rpt.definitions"), ""]
    return "\n".join(md)


def render_csv(data: dict[str, Any], locale: str) -> str:
    """One row per figure: month, measure code, label, value (raw number, '.' as decimal point)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["month", "measure", "label", "value"])
    for key, name, _, raw in rows(data, locale):
        w.writerow([data["month"], key, name, "" if raw is None else raw])
    f = data["figures"]
    if data["kind"] == "usage":
        for r in data["top_viewed"]:
            w.writerow([data["month"], f"views:{r['key']}", r["title"] or "", r["views"]])
    else:
        for level, hours in f["cycle_hours_by_level"].items():
            w.writerow([data["month"], f"cycle_hours:{level}", level, hours])
        for outcome, n in f["reuse_by_outcome"].items():
            w.writerow([data["month"], f"reuse:{outcome}", gettext(f"rpt.outcome.{outcome}", locale), n])
        for stars, n in f["ratings"].items():
            w.writerow([data["month"], f"ratings:{stars}", gettext("rpt.stars", locale, n=stars), n])
    return buf.getvalue()


# -- writing and reading --------------------------------------------------------------------------------------

def write_month(ctx: AppContext, month: str, *, force: bool = False) -> list[str]:
    """Write ``usage-<month>`` and ``effect-<month>`` (JSON, HTML, Markdown, CSV); a report already written
    is left as it is unless ``force``. Returns the names written now."""
    check_month(month)
    out = folder(ctx)
    names = [f"{kind}-{month}" for kind in KINDS]
    if not force and all((out / f"{n}.{fmt}").exists() for n in names for fmt in FORMATS):
        return []
    out.mkdir(parents=True, exist_ok=True)
    locale = ctx.policy.doc.reports.locale
    written = []
    for kind, data in compose(ctx, month).items():
        base = out / f"{kind}-{month}"
        files = {"json": json.dumps(data, ensure_ascii=False, indent=1),   # key order is the charts' order
                 "html": render_html(data, locale, ctx.policy.label),
                 "md": render_markdown(data, locale, ctx.policy.label),
                 "csv": render_csv(data, locale)}
        for fmt, content in files.items():     # written beside, then renamed: a reader never sees half a file
            tmp = base.with_name(f".{base.name}.{fmt}.tmp")
            tmp.write_text(content, encoding="utf-8")
            tmp.replace(base.with_name(f"{base.name}.{fmt}"))
        written.append(base.name)
    return written


def monthly_reports(ctx: AppContext) -> dict[str, int]:
    """The scheduled job: the previous month's reports, once (a rerun in the same month writes nothing)."""
    return {"reports_written": len(write_month(ctx, dashboard.previous_month(ctx)))}


def list_reports(ctx: AppContext, actor: Actor) -> list[dict[str, Any]]:
    """The monthly reports written so far, newest month first, for a report reader."""
    require_reader(ctx, actor)
    out = folder(ctx)
    found = sorted((p.stem for p in out.glob("*.json") if NAME.match(p.stem)), key=lambda n: (n[-7:], n),
                   reverse=True) if out.exists() else []
    return [{"name": n, "kind": n.split("-", 1)[0], "month": n[-7:],
             "formats": [fmt for fmt in FORMATS if (out / f"{n}.{fmt}").exists()]} for n in found]


def _path(ctx: AppContext, name: str, fmt: str) -> Path:
    if not NAME.match(name or ""):
        raise InvalidInput([Problem.of("name", "err_report_name")], "report")
    if fmt not in FORMATS:
        raise InvalidInput([Problem.of("format", "err_one_of", allowed=list(FORMATS))], "report")
    path = folder(ctx) / f"{name}.{fmt}"
    if not path.exists():
        raise NotFound.of("err_no_report", name=name, fmt=fmt)
    return path


def load_report(ctx: AppContext, actor: Actor, name: str) -> dict[str, Any]:
    """A written report's figures (its JSON), for a report reader."""
    require_reader(ctx, actor)
    return json.loads(_path(ctx, name, "json").read_text(encoding="utf-8"))


def report_file(ctx: AppContext, actor: Actor, name: str, fmt: str) -> Path:
    """The file of a written report in one format, for a report reader."""
    require_reader(ctx, actor)
    return _path(ctx, name, fmt)


# -- the yearly health check and the quarterly review, as their tasks ----------------------------------------

HEALTH_RUNS = ("yearly_health_check", "quarterly_review")


def health_periods(ctx: AppContext, actor: Actor, run: str) -> list[str]:
    """The periods ``run`` has produced tasks for, newest first (readers of reports: ``reports.read``)."""
    from access.rules import require
    from lifecycle.worklist import WorkItem

    require(ctx.policy, actor, "reports.read")
    work = WorkItem.__table__
    with ctx.engine.connect() as conn:
        keys = conn.execute(select(work.c.key).where(work.c.key.like(f"{run}|%"))).scalars().all()
    return sorted({k.rsplit("|", 1)[-1] for k in keys}, reverse=True)


def health_report(ctx: AppContext, actor: Actor, run: str, period: str) -> dict[str, list[dict[str, Any]]]:
    """One run's proposals by group (retire, update, restructure), each with its case (title at the reader's
    tier), the reason, and its task's state: who closed it, with what decision, or when it is due."""
    from access.rules import require
    from lifecycle.worklist import WorkItem
    from redaction.tiers import audience_for

    require(ctx.policy, actor, "reports.read")
    if run not in HEALTH_RUNS:
        raise InvalidInput([Problem.of("run", "err_one_of", allowed=list(HEALTH_RUNS))], "health report")
    work = WorkItem.__table__
    groups: dict[str, list[dict[str, Any]]] = {}
    with ctx.engine.connect() as conn:
        items = conn.execute(select(work, CASES.c.key.label("case_key"), CASES.c.title.label("case_title"),
                                    CASES.c.state.label("case_state"), CASES.c.classification,
                                    CASES.c.department, CASES.c.published_version_no, CASES.c.current_version_no,
                                    CASES.c.withdrawn_at)
                             .join(CASES, CASES.c.id == work.c.case_id)
                             .where(work.c.key.like(f"{run}|%|{period}")).order_by(work.c.id)).all()
        for it in items:
            group = it.key.split("|")[1]
            shown = None
            if it.withdrawn_at is None:
                audience = audience_for(ctx.policy, actor, classification=it.classification,
                                        department=it.department, is_author=False)
                shown = stored_title(conn, ctx.policy, it.case_id, it.published_version_no or it.current_version_no,
                                     it.case_title, audience)
            groups.setdefault(group, []).append({
                "task_id": it.id, "case_key": it.case_key, "title": shown, "case_state": it.case_state,
                "reason": it.reason, "status": it.status, "due_at": it.due_at, "closed_by": it.closed_by,
                "decision": it.decision, "outcome": it.outcome, "assignee_role": it.assignee_role})
    order = {"retire": 0, "update": 1, "restructure": 2}
    return dict(sorted(groups.items(), key=lambda g: order.get(g[0], 9)))

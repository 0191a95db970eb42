"""Dashboard and reports in the browser, and the two things readers give back for them: the operations
dashboard (figures and SVG charts), the monthly usage and effect reports, the yearly health check and the
quarterly review with their tasks linked to their cases, "I reused this case" marks and the monthly NPS
question. Pages (``router``) and JSON (``api_router``) call the same domain functions as the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from fastapi import APIRouter, Depends, Form, Path as PathParam, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from casebook.core.context import AppContext
from casebook.core.errors import CasebookError, InvalidInput
from casebook.core.i18n import format_date, format_number, format_percent, has, translator
from casebook.core.users import Actor
from casebook.web.deps import api_actor, app_ctx, csrf_guard, optional_actor
from casebook.web.pages import _login_redirect, _refused, page, templates
from library import dashboard, reports, usage
from library.charts import Series, bar_chart, distribution_chart, line_chart

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
api_router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(csrf_guard)])


@pass_context
def reuse_outcomes(context: Any) -> list[str]:
    """The outcomes an "I reused this case" mark may give (policy ``reports.reuse_outcomes``), for
    ``_reuse_form.html`` wherever it is included."""
    return list(context["request"].app.state.ctx.policy.doc.reports.reuse_outcomes)


templates.env.globals["reuse_outcomes"] = reuse_outcomes


def _labeller(ctx: AppContext, locale: str) -> Callable[[str], str]:
    """A code (state, level, role) in the reader's language: the catalog's, else the policy's label."""
    t = translator(locale)

    def label(code: str) -> str:
        if str(code).startswith("review_l") and str(code)[8:].isdigit():
            return t("rpt.state.review_level", n=str(code)[8:])
        for key in (f"rpt.state.{code}", str(code)):
            if has(key):
                return t(key)
        return ctx.policy.label(str(code), locale) or str(code)

    return label


def _locale_of(request: Request, ctx: AppContext, actor: Actor) -> str:
    from casebook.core.users import get_user

    with ctx.sessions() as session:
        return get_user(session, actor.username).locale


def _fmt(locale: str) -> dict[str, Callable[..., str]]:
    def num(value: float | int | None, digits: int | None = None) -> str:
        if value is None:
            return "–"
        return format_number(value, locale, digits=digits if digits is not None else
                             (0 if float(value).is_integer() else 1))

    def pct(value: float | None) -> str:
        return "–" if value is None else format_percent(value, locale, digits=1)

    def day(value: datetime | None) -> str:
        return "" if value is None else format_date(value, locale, length="medium")

    return {"num": num, "pct": pct, "day": day}


# -- the dashboard ------------------------------------------------------------------------------------------

def dashboard_charts(ctx: AppContext, f: dict[str, Any], tr: dict[str, Any], locale: str) -> dict[str, Markup]:
    """Every dashboard chart, titled, with labelled axes, a legend and a table alternative."""
    t, label = translator(locale), _labeller(ctx, locale)
    month = t("rpt.axis.month")
    attention = ("overdue_submissions", "overdue_reviews", "stale", "expiring_30", "expiring_90", "expired")
    outcomes = list(f["reuse_by_outcome"])
    charts = {
        "attention": bar_chart(t("rpt.chart.library"), [t(f"rpt.fig.{k}") for k in attention],
                               [Series(t("rpt.axis.cases"), [f[k] for k in attention])],
                               x_label=t("rpt.axis.measure"), y_label=t("rpt.axis.cases"), locale=locale),
        "pass_rate": line_chart(t("rpt.chart.pass_rate"), tr["months"],
                                [Series(t("rpt.fig.pass_rate"),
                                        [None if v is None else round(100 * v, 1) for v in tr["pass_rate"]])],
                                x_label=month, y_label=t("rpt.axis.percent"), locale=locale),
        "cycle": line_chart(t("rpt.chart.cycle_trend"), tr["months"],
                            [Series(label(lvl), values) for lvl, values in tr["cycle_hours_by_level"].items()],
                            x_label=month, y_label=t("rpt.axis.hours"), locale=locale),
        "cycle_all": bar_chart(t("rpt.chart.cycle"), [label(lvl) for lvl in f["cycle_hours_by_level"]],
                               [Series(t("rpt.fig.cycle_hours"), list(f["cycle_hours_by_level"].values()))],
                               x_label=t("rpt.axis.level"), y_label=t("rpt.axis.hours"), locale=locale),
        "ratings": distribution_chart(t("rpt.chart.ratings"), [t("rpt.stars", n=k) for k in f["ratings"]],
                                      list(f["ratings"].values()), name=t("rpt.fig.rating_count"),
                                      x_label=t("rpt.axis.stars"), y_label=t("rpt.axis.count"), locale=locale),
        "rating_trend": line_chart(t("rpt.chart.rating_trend"), tr["months"],
                                   [Series(t("rpt.fig.rating_average"), tr["rating_average"])],
                                   x_label=month, y_label=t("rpt.axis.stars"), locale=locale, digits=2),
        "nps_trend": line_chart(t("rpt.chart.nps_trend"), tr["months"], [Series(t("rpt.fig.nps"), tr["nps"])],
                                x_label=month, y_label=t("rpt.axis.nps"), locale=locale, digits=0),
        "reuse": bar_chart(t("rpt.chart.reuse"), [t(f"rpt.outcome.{o}") for o in outcomes],
                           [Series(t("rpt.fig.reuse_marks"), [f["reuse_by_outcome"][o] for o in outcomes])],
                           x_label=t("rpt.axis.outcome"), y_label=t("rpt.axis.count"), locale=locale),
        "activity": line_chart(t("rpt.chart.activity"), tr["months"],
                               [Series(t("rpt.fig.searches"), tr["searches"]), Series(t("rpt.fig.views"), tr["views"]),
                                Series(t("rpt.fig.downloads"), tr["downloads"]),
                                Series(t("rpt.fig.reuse_marks"), tr["reuse_marks"])],
                               x_label=month, y_label=t("rpt.axis.count"), locale=locale),
        "search_time": line_chart(t("rpt.chart.search_time"), tr["months"],
                                  [Series(t("rpt.fig.search_ms_avg"), tr["search_ms_avg"])],
                                  x_label=month, y_label=t("rpt.axis.ms"), locale=locale, digits=0),
        "states": bar_chart(t("rpt.chart.states"), [label(s) for s in f["by_state"]],
                            [Series(t("rpt.axis.cases"), list(f["by_state"].values()))],
                            x_label=t("rpt.axis.state"), y_label=t("rpt.axis.cases"), locale=locale),
    }
    return {k: Markup(v) for k, v in charts.items()}  # noqa: S704 - built from escaped parts in library.charts


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    """Headline figures (the library now, pass rate, rating average, this month's use) and the charts."""
    if actor is None:
        return _login_redirect()
    try:
        f = dashboard.figures_for(ctx, actor)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    locale = _locale_of(request, ctx, actor)
    tr = dashboard.trends(ctx)
    return page(request, ctx, actor, "dashboard.html", f=f, m=f["month"], trend=tr,
                charts=dashboard_charts(ctx, f, tr, locale), fmt=_fmt(locale),
                may_read_reports=reports.may_read(ctx, actor))


# -- monthly reports ----------------------------------------------------------------------------------------

@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, actor: Actor | None = Depends(optional_actor),
                 ctx: AppContext = Depends(app_ctx)) -> Response:
    """The monthly reports written so far, by month, with the health check and quarterly review beside."""
    if actor is None:
        return _login_redirect()
    try:
        found = reports.list_reports(ctx, actor)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    months: dict[str, list[dict[str, Any]]] = {}
    for r in found:
        months.setdefault(r["month"], []).append(r)
    may_health = ctx.policy.may(actor.role, "reports.read", own=False)
    return page(request, ctx, actor, "reports.html", months=months, may_health=may_health)


def _health(request: Request, ctx: AppContext, actor: Actor, run: str, template: str, period: str | None
            ) -> Response:
    try:
        periods = reports.health_periods(ctx, actor, run)
        chosen = period if period in periods else (periods[0] if periods else None)
        groups = reports.health_report(ctx, actor, run, chosen) if chosen else {}
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    locale = _locale_of(request, ctx, actor)
    t = translator(locale)
    counts = {g: len(items) for g, items in groups.items()}
    chart = None
    if groups:
        chart = Markup(bar_chart(t(f"hc.chart.{run}"), [t(f"hc.group.{g}") for g in groups],  # noqa: S704
                                 [Series(t("hc.proposed"), [counts[g] for g in groups]),
                                  Series(t("hc.done"), [sum(1 for i in items if i["status"] != "open")
                                                        for items in groups.values()])],
                                 x_label=t("hc.axis.group"), y_label=t("rpt.axis.cases"), locale=locale))
    return page(request, ctx, actor, template, run=run, periods=periods, period=chosen, groups=groups,
                chart=chart, fmt=_fmt(locale), tz=ctx.clock.tz, state_label=_labeller(ctx, locale))


@router.get("/reports/health", response_class=HTMLResponse)
def health_page(request: Request, period: str | None = None, actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    """The yearly health check: retire, update and restructure proposals, each task linked to its case."""
    if actor is None:
        return _login_redirect()
    return _health(request, ctx, actor, "yearly_health_check", "health.html", period)


@router.get("/reports/quarterly", response_class=HTMLResponse)
def quarterly_page(request: Request, period: str | None = None, actor: Actor | None = Depends(optional_actor),
                   ctx: AppContext = Depends(app_ctx)) -> Response:
    """The quarterly review: the cases proposed for retirement, each task linked to its case."""
    if actor is None:
        return _login_redirect()
    return _health(request, ctx, actor, "quarterly_review", "quarterly.html", period)


@router.get("/reports/{name}", response_class=HTMLResponse)
def report_page(name: str, request: Request, actor: Actor | None = Depends(optional_actor),
                ctx: AppContext = Depends(app_ctx)) -> Response:
    """One monthly report in the reader's language (the written files are in the policy's)."""
    if actor is None:
        return _login_redirect()
    try:
        data = reports.load_report(ctx, actor, name)
        formats = next((r["formats"] for r in reports.list_reports(ctx, actor) if r["name"] == name), [])
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    locale = _locale_of(request, ctx, actor)
    body = Markup(reports.body_html(data, locale, ctx.policy.label))  # noqa: S704 - escaped in library.reports
    return page(request, ctx, actor, "report.html", report_name=name, data=data, title=reports.title(data, locale),
                body=body, formats=[f for f in formats if f != "json"])


@router.get("/reports/{name}/file/{fmt}")
def report_download(name: str, fmt: str, request: Request, actor: Actor | None = Depends(optional_actor),
                    ctx: AppContext = Depends(app_ctx)) -> Response:
    """A written report file (HTML, Markdown, CSV), as an attachment."""
    if actor is None:
        return _login_redirect()
    try:
        path = reports.report_file(ctx, actor, name, fmt)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return FileResponse(path, media_type=reports.FORMATS[fmt], filename=path.name)


# -- reuse marks and NPS --------------------------------------------------------------------------------------

@router.post("/cases/{key}/reuse")
def reuse_page(key: str, request: Request, outcome: str = Form(""), note: str = Form("", max_length=4000),
               actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    """The case page's "I reused this case" form."""
    if actor is None:
        return _login_redirect()
    try:
        usage.mark_reuse(ctx, actor, key, outcome, note)
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse(f"/cases/{key}?done=reused", status_code=303)


@router.get("/nps", response_class=HTMLResponse)
def nps_page(request: Request, actor: Actor | None = Depends(optional_actor),
             ctx: AppContext = Depends(app_ctx)) -> Response:
    """This month's question: how likely are you to recommend the case library to a colleague (0-10)?"""
    if actor is None:
        return _login_redirect()
    return page(request, ctx, actor, "nps.html", answer=usage.nps_answer(ctx, actor), month=usage.current_month(ctx),
                done=request.query_params.get("done"), errors={}, values={})


@router.post("/nps")
def nps_answer(request: Request, score: str = Form(""), comment: str = Form("", max_length=4000),
               actor: Actor | None = Depends(optional_actor), ctx: AppContext = Depends(app_ctx)) -> Response:
    if actor is None:
        return _login_redirect()
    try:
        usage.answer_nps(ctx, actor, int(score) if score.strip().isdigit() else -1, comment)
    except InvalidInput as exc:
        return page(request, ctx, actor, "nps.html", status=422, answer=usage.nps_answer(ctx, actor),
                    month=usage.current_month(ctx), done=None, values={"score": score, "comment": comment},
                    errors={p.field: [p.rule] for p in exc.problems})
    except CasebookError as exc:
        return _refused(request, ctx, actor, exc)
    return RedirectResponse("/nps?done=answered", status_code=303)


# -- JSON ---------------------------------------------------------------------------------------------------

class ReuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=32)
    note: str | None = Field(default=None, max_length=2000)


class NpsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)


@api_router.post("/cases/{key}/reuse")
def reuse_api(body: ReuseIn, key: str = PathParam(max_length=64), actor: Actor = Depends(api_actor),
              ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """Mark a published case you may read as reused, with how it went (policy ``reports.reuse_outcomes``)."""
    return usage.mark_reuse(ctx, actor, key, body.outcome, body.note)


@api_router.post("/nps")
def nps_api(body: NpsIn, actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """This month's answer (0-10) to "how likely are you to recommend the case library?"; a second answer in
    the same month replaces the first."""
    return usage.answer_nps(ctx, actor, body.score, body.comment)


@api_router.get("/reports")
def reports_api(actor: Actor = Depends(api_actor), ctx: AppContext = Depends(app_ctx)) -> list[dict[str, Any]]:
    """The monthly reports written so far (for the roles in policy ``reports.readers``)."""
    return reports.list_reports(ctx, actor)


@api_router.get("/reports/{name}")
def report_api(name: str = PathParam(max_length=32), actor: Actor = Depends(api_actor),
               ctx: AppContext = Depends(app_ctx)) -> dict[str, Any]:
    """One monthly report's figures (usage-YYYY-MM or effect-YYYY-MM)."""
    return reports.load_report(ctx, actor, name)


"""Server-side SVG charts for the dashboard and the monthly reports: bar, line and distribution.

Every chart is a ``<figure>`` holding an inline SVG (no script, no external asset) with ``role="img"``, a
``<title>`` and a ``<desc>`` that summarise it, a title, labelled axes with a scale, a legend, and the same
figures as a ``<table>`` for screen readers and for anyone without graphics. Colours keep at least 4.5:1
against white so marks and text stay legible; each series also differs by dash pattern (lines) or by its
legend entry position (bars), not by colour alone. Numbers are formatted per locale; the few words the chart
adds itself (no data, the table's summary) come from the message catalog.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casebook.core.i18n import format_number, gettext

#: Series colours, each at least 4.5:1 against white (WCAG 1.4.3 for text, 1.4.11 for graphics).
PALETTE = ("#1d5fa8", "#b0440c", "#1e7b34", "#7a3fa0", "#8a5a00", "#0e6e78")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
INK, GRID, MUTED = "#1f2933", "#d5dbe1", "#52606d"
FONT = "font-family=\"system-ui, 'Noto Sans CJK TC', 'Noto Sans CJK SC', sans-serif\""


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None: no value for that category)."""

    name: str
    values: Sequence[float | None]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _scale(values: Sequence[float], *, integer: bool) -> tuple[float, float, float]:
    """A round axis range covering the values and zero, and its tick step (1, 2, 2.5 or 5 times a power of
    ten; whole numbers for counts)."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    raw = (hi - lo) / 4 or 0.25
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    if integer:
        step = float(max(1, math.ceil(step)))
    lo, hi = step * math.floor(lo / step + 1e-9), step * math.ceil(hi / step - 1e-9)
    return lo, (hi if hi > lo else lo + step), step


def _all_whole(values: Sequence[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def _formatter(locale: str, digits: int | None) -> Callable[[float | None], str]:
    def fmt(value: float | None) -> str:
        if value is None:
            return "–"
        d = digits if digits is not None else (0 if float(value).is_integer() else 1)
        return format_number(value, locale, digits=d)
    return fmt


def _table(title: str, x_label: str, categories: Sequence[str], series: Sequence[Series],
           fmt: Callable[[float | None], str], locale: str) -> str:
    head = "".join(f'<th scope="col">{_esc(s.name)}</th>' for s in series)
    rows = "".join(f'<tr><th scope="row">{_esc(c)}</th>'
                   + "".join(f"<td>{fmt(s.values[i])}</td>" for s in series) + "</tr>"
                   for i, c in enumerate(categories))
    return (f'<details class="chart-data"><summary>{_esc(gettext("chart.table", locale))}</summary>'
            f'<table><caption>{_esc(title)}</caption><thead><tr><th scope="col">{_esc(x_label)}</th>{head}</tr>'
            f"</thead><tbody>{rows}</tbody></table></details>")


def _summary(categories: Sequence[str], series: Sequence[Series], fmt: Callable[[float | None], str],
             locale: str) -> str:
    """The ``<desc>``: every value in words a screen reader reads out (short charts) or the range (long ones)."""
    parts = []
    for s in series:
        known = [(c, v) for c, v in zip(categories, s.values) if v is not None]
        if not known:
            continue
        if len(known) <= 8:
            parts.append(f"{s.name}: " + ", ".join(f"{c} {fmt(v)}" for c, v in known))
        else:
            low = min(known, key=lambda cv: cv[1])
            high = max(known, key=lambda cv: cv[1])
            parts.append(gettext("chart.range", locale, name=s.name, low=f"{low[0]} {fmt(low[1])}",
                                 high=f"{high[0]} {fmt(high[1])}"))
    return "; ".join(parts) or gettext("chart.no_data", locale)


def _frame(kind: str, title: str, desc: str, width: int, height: int, body: list[str], table: str) -> str:
    n = hashlib.sha1(f"{kind}|{title}".encode()).hexdigest()[:10]   # stable: a rewritten report is identical
    return (f'<figure class="chart chart-{kind}">'
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart{n}-t chart{n}-d" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>'
            f'<title id="chart{n}-t">{_esc(title)}</title><desc id="chart{n}-d">{_esc(desc)}</desc>'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="{INK}">'
            f"{_esc(title)}</text>" + "".join(body) + "</svg>" + table + "</figure>")


def _legend(series: Sequence[Series], x: float, y: float, *, lines: bool) -> list[str]:
    out = []
    for i, s in enumerate(series):
        yy = y + i * 18
        colour = PALETTE[i % len(PALETTE)]
        if lines:
            out.append(f'<line x1="{x:.0f}" y1="{yy - 4:.0f}" x2="{x + 22:.0f}" y2="{yy - 4:.0f}" stroke="{colour}" '
                       f'stroke-width="3" stroke-dasharray="{DASHES[i % len(DASHES)]}"/>')
        else:
            out.append(f'<rect x="{x:.0f}" y="{yy - 11:.0f}" width="14" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 28:.0f}" y="{yy:.0f}" font-size="12" fill="{INK}">{_esc(s.name)}</text>')
    return out


def _axes(left: float, top: float, plot_w: float, plot_h: float, scale: tuple[float, float, float],
          locale: str, x_label: str, y_label: str) -> list[str]:
    lo, hi, step = scale
    digits = 0 if float(step).is_integer() else (1 if float(step * 10).is_integer() else 2)
    out = []
    for k in range(int(round((hi - lo) / step)) + 1):
        value = lo + step * k
        y = top + plot_h - plot_h * (value - lo) / (hi - lo)
        out.append(f'<line x1="{left:.0f}" y1="{y:.1f}" x2="{left + plot_w:.0f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
                   f"{format_number(value, locale, digits=digits)}</text>")
    zero = top + plot_h - plot_h * (0 - lo) / (hi - lo)
    out.append(f'<line x1="{left:.0f}" y1="{zero:.1f}" x2="{left + plot_w:.0f}" y2="{zero:.1f}" '
               f'stroke="{INK}"/><line x1="{left:.0f}" y1="{top:.0f}" x2="{left:.0f}" y2="{top + plot_h:.0f}" '
               f'stroke="{INK}"/>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h + 48:.0f}" text-anchor="middle" font-size="12" '
               f'fill="{INK}">{_esc(x_label)}</text>')
    cy = top + plot_h / 2
    out.append(f'<text x="14" y="{cy:.0f}" text-anchor="middle" font-size="12" fill="{INK}" '
               f'transform="rotate(-90 14 {cy:.0f})">{_esc(y_label)}</text>')
    return out


def _y(value: float, top: float, plot_h: float, scale: tuple[float, float, float]) -> float:
    lo, hi, _ = scale
    return top + plot_h - plot_h * (float(value) - lo) / (hi - lo)


def _no_data(left: float, top: float, plot_w: float, plot_h: float, locale: str) -> str:
    return (f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle" font-size="13" '
            f'fill="{MUTED}">{_esc(gettext("chart.no_data", locale))}</text>')


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _lines(label: str, room: float) -> list[str]:
    """A category label in at most two lines that fit the room under its slot (CJK characters count
    double); what still does not fit ends in an ellipsis (the table and the bar's tooltip hold it whole)."""
    limit = max(3, int(room / 6.5))
    if _width(label) <= limit:
        return [label]
    words = label.split(" ")
    first = ""
    if len(words) > 1:                        # break between words where the language has them
        for i in range(len(words), 0, -1):
            if _width(" ".join(words[:i])) <= limit:
                first, rest = " ".join(words[:i]), " ".join(words[i:])
                break
    if not first:
        cut, used = 0, 0
        for cut, ch in enumerate(label):
            used += 2 if ord(ch) > 0x2E80 else 1
            if used > limit:
                break
        first, rest = label[:cut], label[cut:]
    if _width(rest) > limit:
        kept, used = "", 0
        for ch in rest:
            used += 2 if ord(ch) > 0x2E80 else 1
            if used > limit - 1:
                break
            kept += ch
        rest = kept + "…"
    return [first, rest] if rest else [first]


def _category(x: float, y: float, label: str, room: float) -> str:
    lines = _lines(label, room)
    spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 13}">{_esc(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text x="{x:.1f}" y="{y:.0f}" text-anchor="middle" font-size="11" fill="{INK}">{spans}</text>'


@dataclass(frozen=True)
class _Plot:
    """Where a chart draws: the plot area's corner and size and the value axis's range."""

    left: float
    top: float
    width: float
    height: float
    scale: tuple[float, float, float]

    def y(self, value: float) -> float:
        return _y(value, self.top, self.height, self.scale)


def _plot(series: Sequence[Series], *, width: int, height: int, locale: str, x_label: str, y_label: str,
          lines: bool, integer: bool | None = None, empty: bool | None = None) -> tuple[_Plot, list[str]]:
    """The frame every chart shares: legend, axes with their scale and labels, "no data" when empty."""
    values = [float(v) for s in series for v in s.values if v is not None]
    left, top = 64, 40 + 18 * len(series) + 6
    plot = _Plot(left, top, width - left - 20, height - top - 60,
                 _scale(values, integer=_all_whole(values) if integer is None else integer))
    body = _legend(series, left, 48, lines=lines)
    body += _axes(plot.left, plot.top, plot.width, plot.height, plot.scale, locale, x_label, y_label)
    if (not values) if empty is None else empty:
        body.append(_no_data(plot.left, plot.top, plot.width, plot.height, locale))
    return plot, body


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, x_label: str, y_label: str,
              locale: str, digits: int | None = None, width: int = 560, height: int = 300) -> str:
    """Vertical grouped bars: one group per category, one bar per series, the value over each bar."""
    series = list(series)
    fmt = _formatter(locale, digits)
    plot, body = _plot(series, width=width, height=height, locale=locale, x_label=x_label, y_label=y_label,
                       lines=False)
    slot = plot.width / max(len(categories), 1)
    bar_w = max(4.0, min(36.0, slot * 0.7 / max(len(series), 1)))
    zero = plot.y(0)
    for ci, category in enumerate(categories):
        group_left = plot.left + slot * ci + (slot - bar_w * len(series)) / 2
        for si, s in enumerate(series):
            v = s.values[ci]
            if v is None:
                continue
            y = plot.y(v)
            x = group_left + si * bar_w
            body.append(f'<rect x="{x:.1f}" y="{min(y, zero):.1f}" width="{bar_w - 2:.1f}" height="{abs(zero - y):.1f}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{_esc(s.name)} · {_esc(category)}: {fmt(v)}'
                        f"</title></rect>")
            if len(categories) * len(series) <= 24:
                body.append(f'<text x="{x + bar_w / 2 - 1:.1f}" y="{min(y, zero) - 4:.1f}" text-anchor="middle" '
                            f'font-size="10" fill="{INK}">{fmt(v)}</text>')
        body.append(_category(plot.left + slot * ci + slot / 2, plot.top + plot.height + 16, category, slot))
    desc = _summary(categories, series, fmt, locale)
    return _frame("bar", title, desc, width, height, body, _table(title, x_label, categories, series, fmt, locale))


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, x_label: str, y_label: str,
               locale: str, digits: int | None = None, width: int = 560, height: int = 300) -> str:
    """Lines over ordered categories (months): each series its own colour and dash pattern, points marked;
    the axis reaches below zero when a value does (NPS)."""
    series = list(series)
    fmt = _formatter(locale, digits)
    plot, body = _plot(series, width=width, height=height, locale=locale, x_label=x_label, y_label=y_label,
                       lines=True)
    n = len(categories)
    xs = [plot.left + plot.width * (i + 0.5) / n for i in range(n)]
    every = max(1, math.ceil(n / 7))
    for i, category in enumerate(categories):
        if (n - 1 - i) % every == 0:          # the latest month always labelled, then every so many back
            body.append(_category(xs[i], plot.top + plot.height + 16, category, plot.width / n * every))
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        points = [(xs[i], plot.y(v), v, categories[i]) for i, v in enumerate(s.values)
                  if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                        f'stroke-dasharray="{DASHES[si % len(DASHES)]}"/>')
        for x, y, v, c in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{_esc(s.name)} · '
                        f"{_esc(c)}: {fmt(v)}</title></circle>")
    desc = _summary(categories, series, fmt, locale)
    return _frame("line", title, desc, width, height, body, _table(title, x_label, categories, series, fmt, locale))


def distribution_chart(title: str, buckets: Sequence[str], counts: Sequence[int], *, name: str, x_label: str,
                       y_label: str, locale: str, width: int = 560, height: int = 280) -> str:
    """How a count is spread over ordered buckets (stars, scores): a bar per bucket with its share."""
    total = sum(counts)
    fmt = _formatter(locale, 0)
    series = [Series(name, counts)]
    plot, body = _plot(series, width=width, height=height, locale=locale, x_label=x_label, y_label=y_label,
                       lines=False, integer=True, empty=not total)
    slot = plot.width / max(len(buckets), 1)
    zero = plot.y(0)
    for i, (bucket, count) in enumerate(zip(buckets, counts)):
        y = plot.y(count)
        x = plot.left + slot * i + slot * 0.15
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{zero - y:.1f}" '
                    f'fill="{PALETTE[0]}"><title>{_esc(bucket)}: {fmt(count)}</title></rect>')
        if total and count:
            shown = fmt(count)
            if slot >= 44:
                shown += " (" + format_number(100 * count / total, locale, digits=0) + "%)"
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                        f'font-size="10" fill="{INK}">{shown}</text>')
        body.append(_category(plot.left + slot * i + slot / 2, plot.top + plot.height + 16, bucket, slot))
    desc = _summary(buckets, series, fmt, locale)
    return _frame("distribution", title, desc, width, height, body,
                  _table(title, x_label, buckets, series, fmt, locale))

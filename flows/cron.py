"""Just enough cron to ask "when does this schedule first fire on day D" (for ``casebook simulate``; the
served deployments hand the same cron strings and timezone to Prefect)."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo


def _field(spec: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in spec.split(","):
        rng, _, step = part.partition("/")
        if rng == "*":
            start, end = lo, hi
        elif "-" in rng:
            start, end = (int(x) for x in rng.split("-"))
        else:
            start = end = int(rng)
        out.update(range(start, end + 1, int(step) if step else 1))
    return out


def first_fire_on(cron: str, day: date, tz: tzinfo) -> datetime | None:
    """The first time on ``day`` the 5-field cron fires, or None (standard day-of-month/day-of-week OR rule)."""
    minute, hour, dom, month, dow = cron.split()
    if day.month not in _field(month, 1, 12):
        return None
    dows = {d % 7 for d in _field(dow, 0, 7)}
    dom_ok = day.day in _field(dom, 1, 31)
    dow_ok = (day.isoweekday() % 7) in dows
    if dom != "*" and dow != "*":
        fires = dom_ok or dow_ok
    else:
        fires = dom_ok and dow_ok
    if not fires:
        return None
    return datetime.combine(day, time(min(_field(hour, 0, 23)), min(_field(minute, 0, 59))), tzinfo=tz)

"""The one injected clock: timezone-aware, movable in tests and simulations."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from casebook.core.errors import InvalidInput, Problem


class Clock(Protocol):
    """Anything that tells the current, timezone-aware time."""

    tz: tzinfo

    def now(self) -> datetime: ...


@dataclass
class SystemClock:
    """Wall-clock time in the policy's timezone."""

    tz: tzinfo

    def now(self) -> datetime:
        return datetime.now(self.tz)


@dataclass
class FixedClock:
    """A clock that stays where it is put: ``--now``, tests and ``casebook simulate`` move it."""

    current: datetime
    tz: tzinfo = field(default=ZoneInfo("Asia/Shanghai"))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            self.current = self.current.replace(tzinfo=self.tz)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current = self.current + delta
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when if when.tzinfo else when.replace(tzinfo=self.tz)


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months, the day clamped to the month's end (31 Jan + 1 = 28/29 Feb).

    What ``dateutil``'s ``relativedelta(months=n)`` gives, without building one per call (publish runs it).
    """
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    return when.replace(year=year, month=month + 1, day=min(when.day, calendar.monthrange(year, month + 1)[1]))


def parse_now(value: str, tz: tzinfo) -> datetime:
    """Parse an ISO date or datetime for ``--now``; a naive value is read in the policy timezone.

    Anything else (``yesterday``, month 13) is refused as invalid input naming ``--now``, never a traceback.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
        except ValueError as exc:
            raise InvalidInput([Problem.of("--now", "err_iso_time", value=value, detail=str(exc))], "option") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def make_clock(tz_name: str, now: str | None = None) -> Clock:
    """The clock for one process: fixed at ``now`` when given, else the system clock."""
    tz = ZoneInfo(tz_name)
    if now:
        return FixedClock(parse_now(now, tz), tz)
    return SystemClock(tz)

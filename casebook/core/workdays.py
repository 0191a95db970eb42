"""Working-day arithmetic for SLAs: Chinese statutory calendar, per-year policy lists, or plain weekends.

Order of authority for a year: the policy's own holiday / make-up lists for that year, then the
``chinesecalendar`` package where it knows the year, then weekends only with one logged warning per year,
so a simulation running into years nobody has published never crashes.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from functools import lru_cache


from policies.schema import CalendarPolicy



class WorkCalendar:
    """Answers 'is this a working day' and adds or counts working days."""

    def __init__(self, policy: CalendarPolicy) -> None:
        self.policy = policy
        self._holidays = {d for days in policy.holidays.values() for d in days}
        self._makeup = {d for days in policy.makeup_workdays.values() for d in days}
        self._policy_years = set(policy.holidays) | set(policy.makeup_workdays)
        self._warned: set[int] = set()
        self.is_workday = lru_cache(maxsize=8192)(self._is_workday)  # type: ignore[method-assign]

    def source_for(self, year: int) -> str:
        """Which authority decides the given year: policy, chinesecalendar or weekends."""
        if self.policy.mode == "weekends":
            return "weekends"
        if year in self._policy_years:
            return "policy"
        return "chinesecalendar" if _package_knows(year) else "weekends-fallback"

    def _is_workday(self, day: date) -> bool:
        if day in self._makeup:
            return True
        if day in self._holidays:
            return False
        source = self.source_for(day.year)
        if source == "chinesecalendar":
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day))
        if source == "weekends-fallback" and day.year not in self._warned:
            self._warned.add(day.year)
            import structlog   # imported where it logs (start-up time of the CLI)

            structlog.get_logger(__name__).warning("calendar.year_unknown", year=day.year,
                                                   detail="no holiday list published; counting weekends only")
        return day.weekday() < 5

    def add_workdays(self, start: datetime, days: float) -> datetime:
        """The moment ``days`` working days after ``start`` (fractions count as parts of a working day).

        A start on a non-working day counts from the next working day's beginning; the time of day is kept.
        """
        whole = math.floor(days)
        frac = days - whole
        current = start
        if not self.is_workday(current.date()):
            current = datetime.combine(self.next_workday(current.date()), time(0), current.tzinfo)
        remaining = whole
        while remaining > 0:
            current = current + timedelta(days=1)
            if self.is_workday(current.date()):
                remaining -= 1
        if frac:
            current = current + timedelta(days=frac)
        return current

    def next_workday(self, day: date) -> date:
        day = day + timedelta(days=1)
        while not self.is_workday(day):
            day = day + timedelta(days=1)
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.workdays_between(end, start)
        count, day = 0, start
        while day < end:
            day = day + timedelta(days=1)
            count += self.is_workday(day)
        return count

    def within_working_hours(self, moment: datetime) -> bool:
        return self.is_workday(moment.date()) and (
            self.policy.working_hours_start <= moment.time() < self.policy.working_hours_end
        )


@lru_cache(maxsize=None)
def _package_knows(year: int) -> bool:
    try:
        import chinese_calendar

        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False

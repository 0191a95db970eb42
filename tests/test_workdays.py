"""Working days: statutory calendar with make-up days, per-year policy lists, weekends-only fallback."""

from datetime import date, datetime

import structlog
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from casebook.core.clock import add_months
from casebook.core.workdays import WorkCalendar
from policies.schema import CalendarPolicy
from tests.conftest import TZ


def test_statutory_holidays_and_makeup_days() -> None:
    cal = WorkCalendar(CalendarPolicy(mode="cn_statutory"))
    assert not cal.is_workday(date(2026, 10, 5))        # National Day holiday (a Monday)
    assert cal.is_workday(date(2026, 10, 10))           # make-up working Saturday
    start = datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    assert cal.add_workdays(start, 1) == datetime(2026, 10, 8, 10, 0, tzinfo=TZ)
    assert cal.add_workdays(datetime(2026, 10, 9, 10, 0, tzinfo=TZ), 1) == datetime(2026, 10, 10, 10, 0, tzinfo=TZ)
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 9)) == 2


def test_weekends_mode_ignores_holidays() -> None:
    cal = WorkCalendar(CalendarPolicy(mode="weekends"))
    assert cal.is_workday(date(2026, 10, 5))
    assert not cal.is_workday(date(2026, 10, 10))


def test_policy_lists_decide_unpublished_years() -> None:
    cal = WorkCalendar(CalendarPolicy(mode="cn_statutory", holidays={2027: [date(2027, 1, 1)]},
                                      makeup_workdays={2027: [date(2027, 1, 9)]}))
    assert cal.source_for(2027) == "policy"
    assert not cal.is_workday(date(2027, 1, 1))         # a Friday, holiday by policy
    assert cal.is_workday(date(2027, 1, 9))             # a Saturday, working by policy


def test_unknown_year_falls_back_to_weekends_with_one_warning() -> None:
    cal = WorkCalendar(CalendarPolicy(mode="cn_statutory"))
    with structlog.testing.capture_logs() as logs:
        end = cal.add_workdays(datetime(2027, 12, 30, 9, 0, tzinfo=TZ), 300)   # runs deep into 2028/2029
        assert cal.is_workday(date(2028, 10, 2))        # would be a holiday; nobody published 2028
    assert end.year == 2029
    years = sorted(e["year"] for e in logs if e["event"] == "calendar.year_unknown")
    assert years == sorted(set(years)) and 2027 in years and 2028 in years


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(TZ)),
       st.integers(min_value=-1200, max_value=1200))
def test_adding_calendar_months_agrees_with_relativedelta(when: datetime, months: int) -> None:
    moved = add_months(when, months)
    assert moved == when + relativedelta(months=months)
    assert moved.tzinfo is when.tzinfo and moved.time() == when.time()


def test_adding_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(datetime(2027, 1, 31, 9, tzinfo=TZ), 1) == datetime(2027, 2, 28, 9, tzinfo=TZ)
    assert add_months(datetime(2028, 3, 31, 9, tzinfo=TZ), -1) == datetime(2028, 2, 29, 9, tzinfo=TZ)
    assert add_months(datetime(2026, 12, 15, tzinfo=TZ), 1) == datetime(2027, 1, 15, tzinfo=TZ)

"""SLA status of a task in working days: on time, due soon, overdue."""

from __future__ import annotations

from datetime import datetime

from casebook.core.workdays import WorkCalendar

ON_TIME, DUE_SOON, OVERDUE = "on_time", "due_soon", "overdue"


def sla_status(calendar: WorkCalendar, due_at: datetime, now: datetime, due_soon_working_days: float) -> str:
    if now > due_at:
        return OVERDUE
    if calendar.add_workdays(now, due_soon_working_days) >= due_at:
        return DUE_SOON
    return ON_TIME

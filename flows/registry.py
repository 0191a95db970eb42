"""Every scheduled job by name: the functions the Prefect flows, ``casebook flows run`` and ``casebook
simulate`` all call. Each decides what is due at the context clock's time and applies idempotent actions;
notifications are delivered after the job's transactions commit."""

from __future__ import annotations

from collections.abc import Callable

from casebook.core.context import AppContext
from casebook.core.db import refresh_statistics
from library import learning, reports
from lifecycle import health, jobs, jobs_due
from notifications import digests
from notifications.delivery import deliver
from review.escalations import review_escalations


def deliver_notifications(ctx: AppContext) -> dict[str, int]:
    report = deliver(ctx)
    return {"notifications_sent": report.sent, "delivery_failures": report.failed, "dead_letters": report.dead,
            "deferred": report.deferred}


def expiry_audit(ctx: AppContext) -> dict[str, int]:
    """Cases past their validity move to pending evaluation; then, in the nightly quiet, the planner statistics
    are refreshed so every due-work statement keeps walking its index as the library grows."""
    counts = jobs.expiry_audit(ctx)
    refresh_statistics(ctx.engine)
    return counts | {"statistics_refreshed": 1}


JOBS: dict[str, Callable[[AppContext], dict[str, int]]] = {
    "deliver_notifications": deliver_notifications,
    "submission_reminders": jobs.submission_reminders,
    "review_escalations": review_escalations,
    "publish_approved": jobs.publish_approved,
    "monthly_publish": jobs.monthly_publish,
    "expiry_audit": expiry_audit,
    "staleness_audit": jobs.staleness_audit,
    "low_rating_rectification": jobs.low_rating_rectification,
    "archive_retired": jobs.archive_retired,
    "micro_case_watch": jobs.micro_case_watch,
    "work_item_reminders": jobs_due.work_item_reminders,
    "stale_recheck": jobs_due.stale_recheck,
    "quarterly_review": health.quarterly_review,
    "yearly_health_check": health.yearly_health_check,
    "digests": digests.digests,
    "learning_tasks": learning.learning_tasks,
    "case_of_the_day": learning.case_of_the_day,
    "monthly_reports": reports.monthly_reports,
}


def run_job(ctx: AppContext, name: str, *, deliver_after: bool = True) -> dict[str, int]:
    """One job at the context's time, then (unless it is delivery itself) delivery of what it queued."""
    counts = dict(JOBS[name](ctx))
    if deliver_after and name != "deliver_notifications":
        for k, v in deliver_notifications(ctx).items():
            counts[k] = counts.get(k, 0) + v
    return counts

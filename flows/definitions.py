"""Prefect flows, one plain module-level function per scheduled job, each a thin shell over
``flows.registry``: one application context per flow run, the job in batched transactions inside it, then
delivery of what it queued after the job committed, and the run logged in ``job_runs``. A worker loads a flow
by module path (entrypoint ``flows.definitions.<name>``). Schedules (cron and timezone) come from policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from casebook.assembly import build_context
from casebook.core.context import AppContext
from flows import registry, runlog

Counts = dict[str, int]


@task(name="job", cache_policy=NO_CACHE)
def run_job_task(ctx: AppContext, name: str) -> Counts:
    return dict(registry.JOBS[name](ctx))


@task(name="deliver", cache_policy=NO_CACHE)
def deliver_task(ctx: AppContext) -> Counts:
    return registry.deliver_notifications(ctx)


def _run(name: str, now: str | None) -> Counts:
    """The body every flow shares: log start, run the job, deliver (unless the job is delivery), log the end."""
    from prefect.runtime import flow_run

    ctx = build_context(now=now)
    try:
        run_id = runlog.start(ctx, name, str(flow_run.id) if flow_run.id else None)
        try:
            counts = run_job_task(ctx, name)
            if name != "deliver_notifications":
                for k, v in deliver_task(ctx).items():
                    counts[k] = counts.get(k, 0) + v
        except BaseException:
            runlog.finish(ctx, run_id, "failed", None)
            raise
        runlog.finish(ctx, run_id, "completed", counts)
        return counts
    finally:
        ctx.close()


def _flow(fn: Callable[..., Counts]) -> Any:
    """A Prefect flow named exactly as its job (Prefect would otherwise turn underscores into dashes)."""
    return flow(name=fn.__name__, log_prints=False, validate_parameters=True)(fn)


@_flow
def deliver_notifications(now: str | None = None) -> Counts:
    """Deliver pending notifications: retries with backoff, dead letters after the policy's attempts."""
    return _run("deliver_notifications", now)


@_flow
def submission_reminders(now: str | None = None) -> Counts:
    """Remind authors before the submission deadline; escalate overdue submissions up the line."""
    return _run("submission_reminders", now)


@_flow
def review_escalations(now: str | None = None) -> Counts:
    """Review SLAs: due-soon reminders, overdue escalation to the backup group then the manager."""
    return _run("review_escalations", now)


@_flow
def publish_approved(now: str | None = None) -> Counts:
    """Publish approved cases of the instant channel."""
    return _run("publish_approved", now)


@_flow
def monthly_publish(now: str | None = None) -> Counts:
    """Release the month's batch of approved cases of the monthly channel together."""
    return _run("monthly_publish", now)


@_flow
def expiry_audit(now: str | None = None) -> Counts:
    """Cases past their validity become pending evaluation; operations decide renew or retire."""
    return _run("expiry_audit", now)


@_flow
def staleness_audit(now: str | None = None) -> Counts:
    """Flag published cases not updated for the policy's months and ask their owners to update."""
    return _run("staleness_audit", now)


@_flow
def low_rating_rectification(now: str | None = None) -> Counts:
    """Ratings below the policy's mark start a rectification within its hours."""
    return _run("low_rating_rectification", now)


@_flow
def archive_retired(now: str | None = None) -> Counts:
    """Archive retired cases after the policy's retirement period."""
    return _run("archive_retired", now)


@_flow
def micro_case_watch(now: str | None = None) -> Counts:
    """Alert operations about micro-cases not live within the policy's hours."""
    return _run("micro_case_watch", now)


@_flow
def work_item_reminders(now: str | None = None) -> Counts:
    """Correction answers and rectification starts: reminders before their due time, escalation after it."""
    return _run("work_item_reminders", now)


@_flow
def stale_recheck(now: str | None = None) -> Counts:
    """Stale cases not updated within the policy's grace period: a re-check task for operations."""
    return _run("stale_recheck", now)


@_flow
def quarterly_review(now: str | None = None) -> Counts:
    """Propose the policy's share of outdated cases for retirement, with tasks for operations."""
    return _run("quarterly_review", now)


@_flow
def yearly_health_check(now: str | None = None) -> Counts:
    """The yearly health check: propose retire, update and restructure groups; report and tasks."""
    return _run("yearly_health_check", now)


@_flow
def digests(now: str | None = None) -> Counts:
    """Digests: daily reviewer digest, weekly scenario pack, monthly management brief."""
    return _run("digests", now)


@_flow
def learning_tasks(now: str | None = None) -> Counts:
    """Learning paths for new users (tasks in their inbox) and reminders of learning tasks due or overdue."""
    return _run("learning_tasks", now)


@_flow
def case_of_the_day(now: str | None = None) -> Counts:
    """One live case a day, never repeated within the policy's days, for each user who opted in."""
    return _run("case_of_the_day", now)


@_flow
def monthly_reports(now: str | None = None) -> Counts:
    """The previous month's usage and effect reports (HTML with charts, Markdown, CSV), once per month."""
    return _run("monthly_reports", now)


FLOWS: dict[str, Callable[..., Counts]] = {name: globals()[name] for name in registry.JOBS}


def deployments(policy: Any) -> list[Any]:
    """One served deployment per flow, on the policy's cron in the policy's timezone."""
    out = []
    for name, fl in FLOWS.items():
        schedule = policy.doc.flows.get(name)
        cron = schedule.cron if schedule else None
        out.append(fl.to_deployment(name=name, schedule=Cron(cron, timezone=policy.doc.timezone) if cron else None,
                                    entrypoint_type=EntrypointType.MODULE_PATH))
    return out

"""Prefect flows: thin shells over ``flows.registry``. One flow run handles everything due (a run costs about
a second here), the work itself happens in batched transactions inside the job, and delivery is its own task
after the job committed. Schedules (cron and timezone) come from policy."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.schedules import Cron

from casebook.context import build_context
from flows.registry import JOBS, deliver_notifications


@task(name="job")
def _job(name: str, now: str | None) -> dict[str, int]:
    ctx = build_context(now=now)
    try:
        return JOBS[name](ctx)
    finally:
        ctx.close()


@task(name="deliver")
def _deliver(now: str | None) -> dict[str, int]:
    ctx = build_context(now=now)
    try:
        return deliver_notifications(ctx)
    finally:
        ctx.close()


def _make(name: str) -> Any:
    @flow(name=name, log_prints=False, validate_parameters=True)
    def scheduled(now: str | None = None) -> dict[str, int]:
        counts = _job(name, now)
        if name != "deliver_notifications":
            for k, v in _deliver(now).items():
                counts[k] = counts.get(k, 0) + v
        return counts

    scheduled.__doc__ = (JOBS[name].__doc__ or name).strip().splitlines()[0]
    return scheduled


FLOWS: dict[str, Any] = {name: _make(name) for name in JOBS}


def deployments(policy: Any) -> list[Any]:
    """One served deployment per flow, on the policy's cron in the policy's timezone."""
    out = []
    for name, fl in FLOWS.items():
        schedule = policy.doc.flows.get(name)
        cron = schedule.cron if schedule else None
        schedule = Cron(cron, timezone=policy.doc.timezone) if cron else None
        out.append(fl.to_deployment(name=name, schedule=schedule))
    return out

"""Prefect flows: thin shells over ``flows.registry``. One flow run handles everything due (a run costs about
a second here), the work itself happens in batched transactions inside the job, and delivery is its own task
after the job committed. Schedules (cron and timezone) come from policy."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from casebook import runlog
from casebook.context import build_context
from flows import registry


@task(name="job")
def _job(name: str, now: str | None) -> dict[str, int]:
    ctx = build_context(now=now)
    try:
        return registry.JOBS[name](ctx)
    finally:
        ctx.close()


@task(name="deliver")
def _deliver(now: str | None) -> dict[str, int]:
    ctx = build_context(now=now)
    try:
        return registry.deliver_notifications(ctx)
    finally:
        ctx.close()


@task(name="log")
def _log(name: str, run_id: int | None, status: str, counts: dict[str, int] | None) -> int:
    from prefect.runtime import flow_run

    ctx = build_context()
    try:
        if run_id is None:
            return runlog.start(ctx, name, str(flow_run.id) if flow_run.id else None)
        runlog.finish(ctx, run_id, status, counts)
        return run_id
    finally:
        ctx.close()


def _make(name: str) -> Any:
    def scheduled(now: str | None = None) -> dict[str, int]:
        run_id = _log(name, None, "running", None)
        try:
            counts = _job(name, now)
            if name != "deliver_notifications":
                for k, v in _deliver(now).items():
                    counts[k] = counts.get(k, 0) + v
        except BaseException:
            _log(name, run_id, "failed", None)
            raise
        _log(name, run_id, "completed", counts)
        return counts

    scheduled.__doc__ = (registry.JOBS[name].__doc__ or name).strip().splitlines()[0]
    scheduled.__name__ = scheduled.__qualname__ = name   # the entrypoint a worker imports
    return flow(name=name, log_prints=False, validate_parameters=True)(scheduled)


FLOWS: dict[str, Any] = {name: _make(name) for name in registry.JOBS}
# Module attributes (the flows' own names; nothing else here may use them), so a worker loads each flow by module path (entrypoint "flows.definitions.<name>").
globals().update(FLOWS)


def deployments(policy: Any) -> list[Any]:
    """One served deployment per flow, on the policy's cron in the policy's timezone."""
    out = []
    for name, fl in FLOWS.items():
        schedule = policy.doc.flows.get(name)
        cron = schedule.cron if schedule else None
        schedule = Cron(cron, timezone=policy.doc.timezone) if cron else None
        out.append(fl.to_deployment(name=name, schedule=schedule, entrypoint_type=EntrypointType.MODULE_PATH))
    return out

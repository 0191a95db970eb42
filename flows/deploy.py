"""``casebook deploy``: every flow as a Prefect deployment on its policy schedule, in a work pool, against
the Prefect API in ``PREFECT_API_URL``. Idempotent: a deployment that already matches is left untouched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound

from flows.definitions import deployments
from policies.loader import Policy


@dataclass(frozen=True)
class Outcome:
    name: str
    action: str  # created | updated | unchanged


def _schedule_of(existing: Any) -> tuple[str | None, str | None]:
    for s in existing.schedules or []:
        return getattr(s.schedule, "cron", None), getattr(s.schedule, "timezone", None)
    return None, None


def deploy(policy: Policy, pool: str, pool_type: str = "process") -> list[Outcome]:
    out: list[Outcome] = []
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type=pool_type))
            out.append(Outcome(f"work pool {pool}", "created"))
        for dep in deployments(policy):
            wanted_cron = dep.schedules[0].schedule.cron if dep.schedules else None
            try:
                existing = client.read_deployment_by_name(f"{dep.flow_name}/{dep.name}")
            except ObjectNotFound:
                existing = None
            if existing is not None and existing.entrypoint == dep.entrypoint and \
                    existing.work_pool_name == pool and _schedule_of(existing) == (
                        wanted_cron, policy.doc.timezone if wanted_cron else None):
                out.append(Outcome(dep.name, "unchanged"))
                continue
            dep.apply(work_pool_name=pool)
            out.append(Outcome(dep.name, "created" if existing is None else "updated"))
    return out

"""What a reviewer needs on one task's page: the task, the pre-check results of the version under review
(pass, warn, fail or not run, one line per check the policy knows) and which version the last decision before
this task saw (a return, or the level below), so the page can show what changed since then."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.models import Case, CaseVersion
from lifecycle.service import CaseService
from review.chain import level_of
from review.models import ReviewDecision
from review.prechecks import stored_results
from review.queue import _task

CASES = Case.__table__
VERSIONS = CaseVersion.__table__
DECISIONS = ReviewDecision.__table__


@dataclass(frozen=True)
class Desk:
    task: Any
    version_no: int
    prechecks: list[dict[str, Any]]
    previous_version: int | None
    previous_reasons: list[dict[str, Any]]
    signoff: bool = False


def precheck_lines(ctx: AppContext, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per check in the policy: a failed check of severity 'warn' reads as warn; a missing one as
    not run."""
    by_check = {r["check"]: r for r in stored}
    out = []
    for check, severity in ctx.policy.doc.review.prechecks.severity.items():
        r = by_check.get(check)
        if r is None or severity == "off":
            status = "not_run"
        elif r["status"] == "fail" and severity == "warn":
            status = "warn"
        else:
            status = r["status"]
        out.append({"check": check, "status": status, "severity": severity,
                    "findings": (r or {}).get("findings") or []})
    return out


def desk(ctx: AppContext, actor: Actor, task_id: int) -> Desk:
    """The task's review sheet; the actor must be allowed to read the case (the same read rule as elsewhere)."""
    with ctx.engine.connect() as conn:
        task = _task(conn, task_id)
    CaseService(ctx).view(actor, task.case_key)
    with ctx.engine.connect() as conn:
        case = conn.execute(select(CASES).where(CASES.c.id == task.case_id)).one()
        stored = stored_results(conn, case.id, case.current_version_no)
        # the last decision taken on the case before this task existed (a return, or the level below)
        last = conn.execute(select(DECISIONS).where(DECISIONS.c.case_id == case.id, DECISIONS.c.task_id != task.id,
                                                    DECISIONS.c.decided_at <= task.created_at)
                            .order_by(DECISIONS.c.decided_at.desc(), DECISIONS.c.id.desc()).limit(1)).first()
        previous = None
        if last is not None:
            previous = conn.execute(select(func.max(VERSIONS.c.number)).where(
                VERSIONS.c.case_id == case.id, VERSIONS.c.created_at <= last.decided_at)).scalar()
    return Desk(task, case.current_version_no, precheck_lines(ctx, stored), previous,
                list(last.reasons or []) if last is not None else [],
                level_of(ctx.policy, case, task.level).redaction_signoff)

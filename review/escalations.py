"""Review deadline work: due-soon reminders to the reviewers, overdue escalation to the backup group and
then the manager — the pure ``classify`` over keyset batches of due tasks plus idempotent outbox rows, one
multi-row INSERT and one transaction per batch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from access.requests import remind_overdue
from casebook.core.context import AppContext
from lifecycle.models import Case
from notifications.audience import RoleHolders, case_refs
from notifications.models import OutboxMessage
from notifications.outbox import Notice, enqueue_many
from review.due import classify_rows, due_horizon, due_tasks_statement, task_rows

CASES = Case.__table__
OUTBOX = OutboxMessage.__table__


def review_escalations(ctx: AppContext) -> dict[str, int]:
    now = ctx.clock.now()
    counts = {"reminders": 0, "escalations": 0, "sla_breaches": 0}
    horizon = due_horizon(ctx.policy, ctx.calendar, now)
    size = ctx.policy.doc.notifications.batch_size
    after: tuple[datetime, int] | None = None
    while True:
        with ctx.engine.begin() as conn:
            walked = conn.execute(due_tasks_statement(horizon, after, size)).all()
            if not walked:
                break
            after = (walked[-1].due_at, walked[-1].id)
            _escalate(ctx, conn, task_rows(conn, [row.id for row in walked]), now, counts)
    counts["escalations"] += remind_overdue(ctx)   # access requests have their own SLA, checked on the same beat
    return counts


def _escalate(ctx: AppContext, conn: Any, rows: list[Any], now: datetime, counts: dict[str, int]) -> None:
    """One batch of due tasks: their notices by one INSERT; a task's first overdue notice counts as a breach."""
    items = classify_rows(ctx.policy, ctx.calendar, rows, now)
    if not items:
        return
    tasks = {row.id: row for row in rows}
    cases = {c.key: c for c in conn.execute(select(CASES).where(CASES.c.key.in_({i.case_key for i in items})))}
    subjects = [f"task-{i.task_id}" for i in items if i.status == "overdue"]
    noticed = set(conn.execute(select(OUTBOX.c.subject_id).where(  # walks ix_outbox_subject
        OUTBOX.c.subject_id.in_(subjects), OUTBOX.c.kind == "review_overdue")).scalars()) if subjects else set()
    holders = RoleHolders(conn, ctx.policy)
    listed = list(cases.values())
    refs = dict(zip([c.key for c in listed], case_refs(listed, conn, working=True)))   # titles read once per batch
    notices: list[Notice] = []
    for item in items:
        task = tasks[item.task_id]
        if item.step == "reviewer":
            targets = [item.claimed_by] if item.claimed_by else holders(task.candidate_role, task.candidate_department)
        else:
            targets = holders(item.notify_role or "", item.notify_department)
        kind = "review_due_soon" if item.status == "due_soon" else "review_overdue"
        payload = {"case": refs[item.case_key], "level": item.level, "reviewer": item.claimed_by,
                   "due": item.due_at.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M"),
                   "days_overdue": item.overdue_working_days}
        notices += [Notice(kind, f"task-{item.task_id}", user, f"{item.status}-{item.step}", payload)
                    for user in dict.fromkeys(targets) if user]
    new = enqueue_many(conn, notices, now)
    breached: set[str] = set()
    for key in new:
        kind, subject = key.split("|", 2)[:2]
        counts["reminders" if kind == "review_due_soon" else "escalations"] += 1
        if kind == "review_overdue" and subject not in noticed:   # the first overdue notice marks a breach
            breached.add(subject)
    counts["sla_breaches"] += len(breached)

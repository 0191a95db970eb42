"""Review deadline work: due-soon reminders to the reviewers, overdue escalation to the backup group and
then the manager — the pure ``due_review_work`` query plus idempotent outbox rows."""

from __future__ import annotations

from sqlalchemy import select

from casebook.core.context import AppContext
from lifecycle.models import Case
from notifications.models import OutboxMessage
from notifications.audience import case_ref, users_with_role
from notifications.outbox import enqueue
from access.requests import remind_overdue
from review.due import due_review_work

CASES = Case.__table__
OUTBOX = OutboxMessage.__table__


def review_escalations(ctx: AppContext) -> dict[str, int]:
    now = ctx.clock.now()
    counts = {"reminders": 0, "escalations": 0, "sla_breaches": 0}
    with ctx.engine.begin() as conn:
        items = due_review_work(conn, ctx.policy, ctx.calendar, now)
        cases = {c.key: c for c in conn.execute(select(CASES).where(CASES.c.key.in_({i.case_key for i in items})))}
        for item in items:
            case = cases[item.case_key]
            if item.step == "reviewer":
                targets = [item.claimed_by] if item.claimed_by else _candidates(ctx, conn, item)
            else:
                targets = users_with_role(conn, ctx.policy, item.notify_role or "", item.notify_department)
            kind = "review_due_soon" if item.status == "due_soon" else "review_overdue"
            payload = {"case": case_ref(case, conn, working=True), "level": item.level, "reviewer": item.claimed_by,
                       "due": item.due_at.astimezone(ctx.clock.tz).strftime("%Y-%m-%d %H:%M"),
                       "days_overdue": item.overdue_working_days}
            first_overdue = item.status == "overdue" and conn.execute(
                select(OUTBOX.c.id).where(OUTBOX.c.subject_id == f"task-{item.task_id}",
                                          OUTBOX.c.kind == "review_overdue").limit(1)).first() is None
            new = 0
            for user in dict.fromkeys(t for t in targets if t):
                new += enqueue(conn, kind=kind, subject_id=f"task-{item.task_id}", recipient=user,
                               period=f"{item.status}-{item.step}", payload=payload, now=now)
            if new:
                counts["reminders" if item.status == "due_soon" else "escalations"] += new
                if first_overdue:                                  # the first overdue notice marks a breach
                    counts["sla_breaches"] += 1

    counts["escalations"] += remind_overdue(ctx)   # access requests have their own SLA, checked on the same beat
    return counts


def _candidates(ctx: AppContext, conn, item) -> list[str]:  # type: ignore[no-untyped-def]
    from review.models import ReviewTask

    task = conn.execute(select(ReviewTask.__table__).where(ReviewTask.__table__.c.id == item.task_id)).one()
    return users_with_role(conn, ctx.policy, task.candidate_role, task.candidate_department)

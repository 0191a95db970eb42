"""Review tables: tasks (one per case, round and level), decisions with rubric scores, pre-check results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, partial_index, UTCDateTime

OPEN, CLAIMED, DONE, CANCELLED = "open", "claimed", "done", "cancelled"
#: Tasks still waiting for a decision; the exact text of ix_review_tasks_live's predicate, which the deadline
#: queries repeat so that SQLite and PostgreSQL can prove the partial index applies.
LIVE_TASK = f"status IN ('{OPEN}', '{CLAIMED}')"


class ReviewTask(Base):
    """Work for a candidate group (role, scoped by department where the level says so)."""

    __tablename__ = "review_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_key: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(64))
    candidate_role: Mapped[str] = mapped_column(String(64))
    candidate_department: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(32))
    policy_version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # The queue: a role's open work in due order (department filtered on the way), and claimed work by user.
        Index("ix_review_tasks_queue", "candidate_role", "status", "due_at"),
        Index("ix_review_tasks_claimed", "claimed_by", "status"),
        # Deadline work (escalations, SLA figures): live tasks only, in (due time, id) order for keyset batches.
        partial_index("ix_review_tasks_live", "due_at", "id", where=LIVE_TASK),
        Index("ix_review_tasks_case", "case_id", "status"),
    )


class ReviewDecision(Base):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_tasks.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    redaction_signoff: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # set by approvals at sign-off levels
    comment: Mapped[str | None] = mapped_column(String(2000))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cycle_seconds: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_review_decisions_case_reviewer", "case_id", "reviewer", "round"),)


class PrecheckResult(Base):
    """One automatic check of one case version: pass / fail / not_run, with its severity from policy."""

    __tablename__ = "review_prechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    check: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("case_id", "version_no", "check", name="uq_review_prechecks_case_version_check"),)

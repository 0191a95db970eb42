"""Work items the flows create for people (evaluation after expiry, rectification of low-rated cases,
health-check follow-ups, answers to correction requests) and case ratings; deadlines live in columns, read by
flows. A work item lives open -> done or cancelled (``lifecycle.work`` closes it)."""

from __future__ import annotations

from datetime import datetime

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, UTCDateTime


class WorkItem(Base):
    """A task for a role (or a person): unique by ``key`` so a rerun never creates it twice."""

    __tablename__ = "work_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(64))       # evaluation | rectification | health_retire | …
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    assignee_role: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")     # open | done | cancelled
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))
    #: What the item is about beyond the case (a correction's requester and text).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(32))
    #: The closer's account of what was decided or changed (also in the audit event).
    outcome: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_work_items_open", "status", "due_at"),)


class Rating(Base):
    """One reader's stars (1..policy scale) for a published case; one per reader and case (latest wins)."""

    __tablename__ = "case_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_case_ratings_case_user", "case_id", "username", unique=True),)

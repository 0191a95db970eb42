"""Tables of learning and of links between cases: learning tasks (one per learner and case of their path), the
case-of-the-day opt-in and what each learner was shown on which day, and the links themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, UTCDateTime


class LearningTask(Base):
    """One case of a learner's path: due by ``due_at``; done when the case was opened (``opened_at``) and the
    learner confirmed it (``confirmed_at``). Unique per learner and case, so assigning again adds nothing."""

    __tablename__ = "learning_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(120))        # the learner's, for the department head's view
    path: Mapped[str] = mapped_column(String(64))               # the role whose path it comes from
    position: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_key: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("uq_learning_tasks_user_case", "username", "case_id", unique=True),
                      Index("ix_learning_tasks_due", "confirmed_at", "due_at"),
                      Index("ix_learning_tasks_department", "department"))


class CaseOfDayChoice(Base):
    """A learner's opt-in to the case of the day (no row: not opted in)."""

    __tablename__ = "case_of_day_optins"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseOfDayShown(Base):
    """The case one learner got on one day (local date, ``YYYY-MM-DD``): unique per learner and day, so a rerun
    of the daily flow picks nothing new, and read back so no case repeats within the policy's days."""

    __tablename__ = "case_of_day_shown"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_key: Mapped[str] = mapped_column(String(32))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_case_of_day_user_day", "username", "day", unique=True),)


class CaseLink(Base):
    """A directed link: ``source`` <kind> ``target`` (e.g. CB-2 supersedes CB-1), shown on both cases."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_case_links_pair_kind", "source_id", "target_id", "kind", unique=True),
                      Index("ix_case_links_target", "target_id"))

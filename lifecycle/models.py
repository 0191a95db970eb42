"""The case row (identity, state, dates the flows read) and its immutable versions (the content)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casebook.core.crypto import SealedJSON, SealedText
from casebook.core.db import Base, partial_index, UTCDateTime
from lifecycle import states as S

#: The rows each scheduled job looks for. Their due-date indexes hold only these rows, so a
#: transition between other states writes no index page (indexes led by the state moved an entry on every
#: transition, half the pages a transition wrote). The queries use these exact strings so that SQLite and
#: PostgreSQL can prove the index applies.
AWAITING_SUBMISSION = f"state = '{S.DRAFT}'"
LIVE = f"state IN ('{S.PUBLISHED}', '{S.UPDATE_DUE}')"
#: Published cases (the staleness audit), approved ones (publish_approved) and scheduled ones (monthly_publish).
PUBLISHED_ONLY = f"state = '{S.PUBLISHED}'"
APPROVED_ONLY = f"state = '{S.APPROVED}'"
SCHEDULED_ONLY = f"state = '{S.SCHEDULED}'"
#: Cases flagged for update (the stale re-check walks them by the time they were flagged).
UPDATE_DUE_ONLY = f"state = '{S.UPDATE_DUE}'"


def _due_index(name: str, due: str, where: str) -> Index:
    """A job's due set in walking order: (due time, id), holding only the rows of the job's states. The id is
    part of the key so that PostgreSQL returns ties in keyset order without a sort (SQLite appends the rowid
    anyway)."""
    return partial_index(name, due, "id", where=where)


class Case(Base):
    """One case. ``state`` changes only through ``lifecycle.service``; ``row_version`` makes racing writers lose."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: Encrypted for the classifications policy names (``casebook.core.crypto``): TEXT, as an envelope is longer.
    title: Mapped[str] = mapped_column(SealedText())
    state: Mapped[str] = mapped_column(String(32))
    review_level: Mapped[int] = mapped_column(Integer, default=0)
    reentry_level: Mapped[int] = mapped_column(Integer, default=1)
    review_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    library: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    micro: Mapped[bool] = mapped_column(Boolean, default=False)
    project_start: Mapped[date | None] = mapped_column(Date)
    project_end: Mapped[date | None] = mapped_column(Date)
    submission_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_version_no: Mapped[int] = mapped_column(Integer, default=1)
    published_version_no: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    content_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when the case is withdrawn (taken down): its content stays restricted after it is archived too.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    versions: Mapped[list["CaseVersion"]] = relationship(back_populates="case", order_by="CaseVersion.number",
                                                         lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        _due_index("ix_cases_submission_due", "submission_due", AWAITING_SUBMISSION),
        _due_index("ix_cases_expires_at", "expires_at", LIVE),
        _due_index("ix_cases_stale", "content_updated_at", PUBLISHED_ONLY),
        _due_index("ix_cases_approved", "state_changed_at", APPROVED_ONLY),
        _due_index("ix_cases_scheduled", "state_changed_at", SCHEDULED_ONLY),
        _due_index("ix_cases_update_due", "state_changed_at", UPDATE_DUE_ONLY),
        Index("ix_cases_department", "department"),
        Index("ix_cases_owner", "owner_id"),
        Index("ix_cases_author", "author_id"),
        Index("ix_cases_published_at", "published_at"),
    )


class CaseVersion(Base):
    """An immutable snapshot of the case document; every edit adds one."""

    __tablename__ = "case_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    #: Encrypted for the classifications policy names (``casebook.core.crypto``).
    document: Mapped[dict[str, Any]] = mapped_column(SealedJSON())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    policy_version: Mapped[str] = mapped_column(String(64))
    #: ``casebook.core.textnorm.fingerprint`` of the text fields; NULL for versions written before it existed.
    shingles: Mapped[bytes | None] = mapped_column(LargeBinary)

    case: Mapped[Case] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_case_versions_case_number"),)

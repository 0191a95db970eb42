"""Access grants: the access-request rows and the one question read paths ask of them (does this user hold an
approved request for this case). Imports only the core, so the lifecycle's read rule can use it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, UTCDateTime

PENDING, APPROVED, DENIED = "pending", "approved", "denied"


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_key: Mapped[str] = mapped_column(String(32))
    requester: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_access_requests_case_requester", "case_id", "requester", "status"),)


TABLE = AccessRequest.__table__


def has_grant(conn: Connection, case_id: int, username: str) -> bool:
    return conn.execute(select(TABLE.c.id).where(TABLE.c.case_id == case_id, TABLE.c.requester == username,
                                                 TABLE.c.status == APPROVED).limit(1)).first() is not None

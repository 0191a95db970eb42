"""Access grants: the access-request rows and the one question read paths ask of them (does this user hold an
approved request for this case). Imports only the core, so the lifecycle's read rule can use it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, Prepared, UTCDateTime

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


#: Compiled once (``Prepared``): lists and "similar cases" ask it for every case a reader is not otherwise allowed,
#: and building the statement cost ten times running it.
_GRANTED = Prepared(select(TABLE.c.id).where(TABLE.c.case_id == bindparam("b_case"),
                                             TABLE.c.requester == bindparam("b_user"),
                                             TABLE.c.status == APPROVED).limit(1))


def has_grant(conn: Connection, case_id: int, username: str) -> bool:
    return _GRANTED.one_or_none(conn, {"b_case": case_id, "b_user": username}) is not None

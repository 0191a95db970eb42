"""Outbox rows (one per notification, unique by its idempotency key) and per-user delivery preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.crypto import SealedJSON
from casebook.core.db import Base, UTCDateTime

PENDING, SENDING, SENT, DEAD, DIGESTED = "pending", "sending", "sent", "dead", "digested"


class OutboxMessage(Base):
    """A notification to one recipient, written in the transaction of the decision that caused it.

    ``key`` = kind|subject|recipient|period: a rerun or a concurrent run of the same decision inserts
    nothing new, so nothing is sent twice; delivery happens only after commit, so nothing is lost.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(120))
    period: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON())  # sealed when it quotes a sealed case
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # wait for the recipient's daily digest
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Delivery picks in (next attempt, id) order within a status; the id keeps PostgreSQL's ties in that order.
    # Escalations ask whether a subject was ever notified of a kind (ix_outbox_subject), never by a scan.
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at", "id"),
                      Index("ix_outbox_recipient", "recipient", "status"),
                      Index("ix_outbox_subject", "subject_id", "kind"))


def picked(ids: list[int], status: str) -> ColumnElement[bool]:
    """Rows already picked by id, if still in ``status``. The status is compared as an expression so that no
    planner walks ix_outbox_due for it: without statistics SQLite took that index (every row in the status)
    over the id list, 2.8 ms instead of 0.2 ms per batch of ten with 20,000 rows pending."""
    table = OutboxMessage.__table__
    return table.c.id.in_(ids) & (func.coalesce(table.c.status, "") == status)


class Preference(Base):
    """How one user wants to hear from Casebook (defaults: e-mail, instant, no quiet hours, user locale)."""

    __tablename__ = "notification_preferences"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")   # email | chat | both
    mode: Mapped[str] = mapped_column(String(16), default="instant")     # instant | digest
    quiet_start: Mapped[str | None] = mapped_column(String(5))           # "22:00" in the policy timezone
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    locale: Mapped[str | None] = mapped_column(String(16))
    chat_url: Mapped[str | None] = mapped_column(String(500))            # an apprise URL (wecombot://, dingtalk://…)
    #: Scenarios of interest (policy ``scenarios``) the weekly pack is narrowed to; None or empty: every scenario.
    scenarios: Mapped[list[str] | None] = mapped_column(JSON)


class CaseFollow(Base):
    """A reader who asked to hear about a case (its takedown, for one); one row per reader and case."""

    __tablename__ = "case_follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_case_follows_case_user", "case_id", "username", unique=True),)

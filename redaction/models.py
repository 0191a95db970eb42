"""Reviewer overrides of detected findings, stored per case version and honoured by every rendering."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base, UTCDateTime

ADD, REMOVE = "add", "remove"


class RedactionOverride(Base):
    """A finding a reviewer added (the detector missed it) or removed (a false positive) in one field.

    ``text`` is the span as it stood, so an override still applies when offsets shift in a later version:
    added findings carry forward to later versions wherever the same text remains in the same field (fail
    closed); removals apply to their own version only, because every new version is re-scanned and re-signed.
    """

    __tablename__ = "redaction_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(8))
    entity_type: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_redaction_overrides_case_version", "case_id", "version_no"),)

"""Reviewer overrides of detected findings, stored per case version and honoured by every rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.crypto import SealedJSON
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


class VersionFindings(Base):
    """What the analyzer found in one case version, per text field, and which analyzer found it.

    Written when the version is written (capture, edit) or re-detected by ``casebook redact backfill``; read
    paths render from these rows and never run the analyzer.
    """

    __tablename__ = "version_findings"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    version_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    analyzer_version: Mapped[str] = mapped_column(String(32))
    #: {field path: [[entity_type, start, end, score(, parse)], ...]} (offsets into that field's text; the parse,
    #: ``redaction.operators.shape_of``, since analyzer version 3)
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_version_findings_analyzer", "analyzer_version"),)


class VersionRendering(Base):
    """One version as one display tier sees it, stored as the changes against the version's document.

    ``tier`` is the tier's action code (``redaction.stored.tier_key``): audiences the policy treats alike share
    a rendering. Rewritten when findings or the sign-off overrides change.
    """

    __tablename__ = "version_renderings"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    version_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    patch: Mapped[dict[str, Any]] = mapped_column(SealedJSON())  # encrypted as its version (casebook.core.crypto)

"""The similar-cases index: a MinHash signature of each case's published version (from the trigram fingerprint
stored with the version) and its LSH band buckets, so "similar cases" looks up a handful of buckets instead of
comparing against the library (``library.similar``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base


class SimilarSignature(Base):
    """``signature``: the MinHash of the published version's trigram fingerprint (``library.similar.SIGNATURE``
    little-endian 32-bit minima): two cases' share of equal minima estimates their trigram Jaccard similarity."""

    __tablename__ = "similar_signatures"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    version_no: Mapped[int] = mapped_column(Integer)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class SimilarBand(Base):
    """One LSH band of a signature: ``bucket`` hashes the band's number and its minima, so cases sharing a
    bucket agree on a whole band (likely when they are similar, unlikely otherwise). Looked up by bucket
    (``ix_similar_bands_bucket``); replaced by case (the primary key) when a new version is published."""

    __tablename__ = "similar_bands"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    __table_args__ = (Index("ix_similar_bands_bucket", "bucket", "case_id"), {"sqlite_with_rowid": False})

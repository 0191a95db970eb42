"""The search index: one entry per case and display tier, holding the terms of that tier's rendering of the
case's published version (keyed hashes instead of terms where the tier shows a confidential case exactly), plus
the facts search filters and facets read. The full-text structures beside it (SQLite FTS5 table
``search_fts``, PostgreSQL ``tsv`` column with a GIN index) are built by migration 0009 and kept in step by
triggers; Alembic's model comparison ignores them (``UNMANAGED``)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.db import Base

#: Database objects of the full-text index that are not declared as models (dialect-specific).
UNMANAGED_TABLES = frozenset({"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize",
                              "search_fts_config", "search_fts_content"})
UNMANAGED_COLUMNS = frozenset({("search_entries", "tsv")})
#: PostgreSQL's GIN index over ``search_entries.tsv`` and each entry's id period (``library.index.INDEXED_TSV``; no
#: pending list: migration 0022, ``library.index.bulk_entries``); before 0022, ``ix_search_entries_tsv``.
GIN_INDEX = "ix_search_entries_tsv_period"
UNMANAGED_INDEXES = frozenset({"ix_search_entries_tsv", GIN_INDEX})


class SearchEntry(Base):
    """``terms``: the words (or keyed hashes) of one tier's rendering. ``facts``: tokens for who may match the
    entry and what filters it passes (tier, classification, department, owner and author, case, library,
    scenario, outcome, tags, visibility), so the full-text index alone answers a viewer's query, counts and
    pages included. ``tags``: the published version's tags, one ``facet=value`` per line (facet counts)."""

    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String(32))
    version_no: Mapped[int] = mapped_column(Integer)
    terms: Mapped[str] = mapped_column(Text)
    facts: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("uq_search_entries_case_tier", "case_id", "tier", unique=True),)


class SearchRating(Base):
    """The average rating of an entry's case, one narrow row per rated entry: ``sort=rating`` reads this per
    match (keyed like the full-text rows) instead of the wide entry row and the case's ratings."""

    __tablename__ = "search_ratings"

    entry_id: Mapped[int] = mapped_column(ForeignKey("search_entries.id", ondelete="CASCADE"), primary_key=True,
                                          autoincrement=False)
    rating: Mapped[float] = mapped_column(Float)


def managed(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """For Alembic's ``include_name``: False for the full-text objects the models do not declare."""
    if type_ == "table":
        return name not in UNMANAGED_TABLES
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in UNMANAGED_COLUMNS
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    return True

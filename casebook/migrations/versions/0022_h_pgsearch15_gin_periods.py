"""PostgreSQL: the search index's GIN holds each entry's id period, and has no pending list.

A GIN index hands back every match of a query unordered, so the newest thousand matches of a tag or a common word
meant reading and sorting all of them (at 100,000 cases, thousands of wide rows). The new index
(``ix_search_entries_tsv_period``, replacing ``ix_search_entries_tsv``) indexes each entry's ``tsv`` plus the token
of its id period (``library.index.INDEXED_TSV``, ``PERIOD_BITS``): a search walks the newest periods first
(``library.search._pg_window``). Built here from the stored ``tsv`` column (no table rewrite; writers need nothing:
PostgreSQL maintains an expression index itself).

``fastupdate`` off: with PostgreSQL's default, new entries wait in the index's pending list (up to 4 MB, about 700
entries) until a vacuum or a full list moves them in, and every search reads the whole list. Measured on a
10,000-case store right after seeding (351 pending pages): a tag search's match query took 20 ms, 4 ms with the list
emptied. Off, a publication writes its entries into the index directly (about 2 ms an entry); seeding turns the
list on for its bulk load and empties it at the end (``library.index.bulk_entries``). SQLite: nothing to do (FTS5
walks its rowids in order).

Revision ID: h_pgsearch15
Revises: h_similar
Create Date: 2026-12-03 21:50:00
"""
from alembic import op

revision = 'h_pgsearch15'
down_revision = 'h_similar'
branch_labels = None
depends_on = None

#: As ``library.index.INDEXED_TSV`` (with ``PERIOD_BITS`` 12) says it; tests/test_search_periods.py holds them equal.
INDEXED = ("(search_entries.tsv || to_tsvector('simple'::regconfig, "
           "('qp'::text || ((search_entries.id >> 12))::text)))")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.execute(f"CREATE INDEX ix_search_entries_tsv_period ON search_entries USING gin ({INDEXED}) "
                   "WITH (fastupdate = off)")
        op.execute("DROP INDEX ix_search_entries_tsv")
        op.execute("ANALYZE search_entries")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
        op.execute("DROP INDEX ix_search_entries_tsv_period")

"""findings stored per version, renderings per display tier, the search index (FTS5 / tsvector + GIN)

Revision ID: 0009_read
Revises: 0009_due
Create Date: 2026-12-03 09:10:00

Existing versions get their findings and renderings from ``casebook redact backfill`` (run after upgrading;
read paths detect a version that has none once, with a warning) and published ones their index entries.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_read'
down_revision = '0009_due'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('version_findings',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('analyzer_version', sa.String(length=32), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_version_findings_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'version_no', name=op.f('pk_version_findings'))
    )
    op.create_index('ix_version_findings_analyzer', 'version_findings', ['analyzer_version'], unique=False)
    op.create_table('version_renderings',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('patch', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_version_renderings_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'version_no', 'tier', name=op.f('pk_version_renderings'))
    )
    op.create_table('search_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_search_entries_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entries'))
    )
    op.create_index('uq_search_entries_case_tier', 'search_entries', ['case_id', 'tier'], unique=True)
    op.create_index('ix_cases_published_at', 'cases', ['published_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # The words are pre-segmented (jieba) and separated by spaces: the 'simple' configuration keeps them.
        op.execute("ALTER TABLE search_entries ADD COLUMN tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('simple', terms || ' ' || facts)) STORED")
        op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
    else:
        # External-content FTS5 over search_entries.terms, kept in step by triggers.
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(terms, facts, content='search_entries', "
                   "content_rowid='id', tokenize='unicode61 remove_diacritics 0')")
        op.execute("CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
                   "INSERT INTO search_fts(rowid, terms, facts) VALUES (new.id, new.terms, new.facts); END")
        op.execute("CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, terms, facts) "
                   "VALUES ('delete', old.id, old.terms, old.facts); END")
        op.execute("CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, terms, facts) "
                   "VALUES ('delete', old.id, old.terms, old.facts); "
                   "INSERT INTO search_fts(rowid, terms, facts) VALUES (new.id, new.terms, new.facts); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        for trigger in ('search_entries_ai', 'search_entries_ad', 'search_entries_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index('ix_cases_published_at', table_name='cases')
    op.drop_index('uq_search_entries_case_tier', table_name='search_entries')
    op.drop_table('search_entries')
    op.drop_table('version_renderings')
    op.drop_index('ix_version_findings_analyzer', table_name='version_findings')
    op.drop_table('version_findings')

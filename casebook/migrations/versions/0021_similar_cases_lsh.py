"""Similar cases through an index: MinHash signatures of published versions and their LSH band buckets
(``library.similar_index``). Existing stores fill them with ``casebook redact backfill``.

Revision ID: h_similar
Revises: h_perf
Create Date: 2026-12-03 18:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'h_similar'
down_revision = 'h_perf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'similar_signatures',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version_no', sa.Integer(), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_similar_signatures_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_similar_signatures')))
    op.create_table(
        'similar_bands',
        sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bucket', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_similar_bands_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'bucket', name=op.f('pk_similar_bands')),
        sqlite_with_rowid=False)
    op.create_index('ix_similar_bands_bucket', 'similar_bands', ['bucket', 'case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_similar_bands_bucket', table_name='similar_bands')
    op.drop_table('similar_bands')
    op.drop_table('similar_signatures')

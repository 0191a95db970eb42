"""redaction overrides and the sign-off record on review decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import casebook.core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('redaction_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.Column('policy_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_redaction_overrides_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redaction_overrides'))
    )
    op.create_index('ix_redaction_overrides_case_version', 'redaction_overrides', ['case_id', 'version_no'], unique=False)
    with op.batch_alter_table('review_decisions') as batch:
        batch.add_column(sa.Column('redaction_signoff', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review_decisions') as batch:
        batch.drop_column('redaction_signoff')
    op.drop_index('ix_redaction_overrides_case_version', table_name='redaction_overrides')
    op.drop_table('redaction_overrides')

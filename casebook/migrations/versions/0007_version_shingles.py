"""case version trigram fingerprints; drop the state-only index on cases

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 01:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions written before this revision keep NULL: the near-duplicate check fingerprints those on the fly.
    with op.batch_alter_table('case_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shingles', sa.LargeBinary(), nullable=True))
    # (state, submission_due) and (state, expires_at) both lead with state and serve state-only filters; a third
    # index on state alone only cost an extra index write on every transition.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_state')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_state', ['state'], unique=False)
    with op.batch_alter_table('case_versions', schema=None) as batch_op:
        batch_op.drop_column('shingles')

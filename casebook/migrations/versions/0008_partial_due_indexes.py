"""due-date indexes on cases hold only the rows their flow looks for (partial indexes)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The same strings as lifecycle.models.AWAITING_SUBMISSION and LIVE (a migration keeps its own copy: it must
# build the schema of its revision even after the models move on).
AWAITING_SUBMISSION = "state = 'draft'"
LIVE = "state IN ('published', 'update_due')"


def upgrade() -> None:
    # Indexes led by the state moved an entry on every transition; partial ones change only when a case enters
    # or leaves the states their flow queries, which roughly halves the pages a transition writes.
    op.drop_index('ix_cases_submission_due', table_name='cases')
    op.drop_index('ix_cases_expires_at', table_name='cases')
    op.create_index('ix_cases_submission_due', 'cases', ['submission_due'], unique=False,
                    sqlite_where=sa.text(AWAITING_SUBMISSION), postgresql_where=sa.text(AWAITING_SUBMISSION))
    op.create_index('ix_cases_expires_at', 'cases', ['expires_at'], unique=False,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    op.drop_index('ix_cases_submission_due', table_name='cases')
    op.drop_index('ix_cases_expires_at', table_name='cases')
    op.create_index('ix_cases_submission_due', 'cases', ['state', 'submission_due'], unique=False)
    op.create_index('ix_cases_expires_at', 'cases', ['state', 'expires_at'], unique=False)

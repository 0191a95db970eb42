"""cases.withdrawn_at: when a case was taken down (its content stays restricted after it is archived)

Revision ID: 0009_inputs
Revises: 0009_audit
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from casebook.core.db import UTCDateTime

revision = '0009_inputs'
down_revision = '0009_audit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('withdrawn_at', UTCDateTime(), nullable=True))
    # Cases withdrawn before this revision, archived since or not: their withdraw event in the audit log says when.
    op.execute("UPDATE cases SET withdrawn_at = (SELECT MIN(e.at) FROM audit_events e WHERE e.subject_type = 'case' "
               "AND e.subject_id = cases.key AND e.action = 'case.withdraw')")
    op.execute("UPDATE cases SET withdrawn_at = state_changed_at WHERE state = 'withdrawn' AND withdrawn_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('withdrawn_at')

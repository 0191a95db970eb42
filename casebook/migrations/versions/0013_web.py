"""work items get a life: details, and who closed them when with which decision and outcome

Revision ID: 0009_web
Revises: 0009_read
Create Date: 2026-12-03 09:10:00
"""
from alembic import op
import sqlalchemy as sa

import casebook.core.db

revision = '0009_web'
down_revision = '0009_read'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', casebook.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('decision')
        batch_op.drop_column('closed_by')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('details')

"""case follows, scenarios of interest, the access log by case, cases flagged for update

Revision ID: h_notify
Revises: h_learn
Create Date: 2026-12-03 13:00:00
"""
from alembic import op
import sqlalchemy as sa

from casebook.core.db import UTCDateTime

revision = 'h_notify'
down_revision = 'h_learn'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('followed_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_follows_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_follows')))
    with op.batch_alter_table('case_follows') as batch:
        batch.create_index('uq_case_follows_case_user', ['case_id', 'username'], unique=True)
    with op.batch_alter_table('notification_preferences') as batch:
        batch.add_column(sa.Column('scenarios', sa.JSON(), nullable=True))
    with op.batch_alter_table('access_log') as batch:
        batch.create_index('ix_access_log_case_at', ['case_key', 'at'], unique=False)
    where = sa.text("state = 'update_due'")
    op.create_index('ix_cases_update_due', 'cases', ['state_changed_at', 'id'], unique=False,
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index('ix_cases_update_due', table_name='cases')
    with op.batch_alter_table('access_log') as batch:
        batch.drop_index('ix_access_log_case_at')
    with op.batch_alter_table('notification_preferences') as batch:
        batch.drop_column('scenarios')
    with op.batch_alter_table('case_follows') as batch:
        batch.drop_index('uq_case_follows_case_user')
    op.drop_table('case_follows')

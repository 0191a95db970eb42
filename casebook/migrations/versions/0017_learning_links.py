"""learning tasks, case-of-the-day opt-ins and deliveries, links between cases

Revision ID: h_learn
Revises: export
Create Date: 2026-12-03 12:45:00
"""
from alembic import op
import sqlalchemy as sa

from casebook.core.db import UTCDateTime

revision = 'h_learn'
down_revision = 'export'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'learning_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('department', sa.String(length=120), nullable=False),
        sa.Column('path', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('case_key', sa.String(length=32), nullable=False),
        sa.Column('assigned_at', UTCDateTime(), nullable=False),
        sa.Column('due_at', UTCDateTime(), nullable=False),
        sa.Column('opened_at', UTCDateTime(), nullable=True),
        sa.Column('confirmed_at', UTCDateTime(), nullable=True),
        sa.Column('policy_version', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_learning_tasks_user_case', 'learning_tasks', ['username', 'case_id'], unique=True)
    op.create_index('ix_learning_tasks_due', 'learning_tasks', ['confirmed_at', 'due_at'], unique=False)
    op.create_index('ix_learning_tasks_department', 'learning_tasks', ['department'], unique=False)
    op.create_table(
        'case_of_day_optins',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_table(
        'case_of_day_shown',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('case_key', sa.String(length=32), nullable=False),
        sa.Column('shown_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_case_of_day_user_day', 'case_of_day_shown', ['username', 'day'], unique=True)
    op.create_table(
        'case_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_case_links_pair_kind', 'case_links', ['source_id', 'target_id', 'kind'], unique=True)
    op.create_index('ix_case_links_target', 'case_links', ['target_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_links_target', table_name='case_links')
    op.drop_index('uq_case_links_pair_kind', table_name='case_links')
    op.drop_table('case_links')
    op.drop_index('uq_case_of_day_user_day', table_name='case_of_day_shown')
    op.drop_table('case_of_day_shown')
    op.drop_table('case_of_day_optins')
    op.drop_index('ix_learning_tasks_department', table_name='learning_tasks')
    op.drop_index('ix_learning_tasks_due', table_name='learning_tasks')
    op.drop_index('uq_learning_tasks_user_case', table_name='learning_tasks')
    op.drop_table('learning_tasks')

"""search_log, reuse_marks, nps_answers and an index on access_log.at: what the monthly usage and effect reports count (library.usage)

Revision ID: dash
Revises: h_notify
Create Date: 2026-12-03 12:40:00
"""
from alembic import op
import sqlalchemy as sa

from casebook.core.db import UTCDateTime

revision = 'dash'
down_revision = 'h_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'search_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('actor', sa.String(64), nullable=False),
        sa.Column('query', sa.String(200), nullable=False),
        sa.Column('ms', sa.Integer(), nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
    )
    op.create_index('ix_search_log_at', 'search_log', ['at'])
    op.create_table(
        'reuse_marks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.Integer(), sa.ForeignKey('cases.id', ondelete='CASCADE'), nullable=False),
        sa.Column('username', sa.String(64), nullable=False),
        sa.Column('outcome', sa.String(32), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('marked_at', UTCDateTime(), nullable=False),
    )
    op.create_index('uq_reuse_marks_case_user', 'reuse_marks', ['case_id', 'username'], unique=True)
    op.create_index('ix_reuse_marks_at', 'reuse_marks', ['marked_at'])
    op.create_table(
        'nps_answers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('username', sa.String(64), nullable=False),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('answered_at', UTCDateTime(), nullable=False),
    )
    op.create_index('uq_nps_answers_user_month', 'nps_answers', ['username', 'month'], unique=True)
    op.create_index('ix_access_log_at', 'access_log', ['at'])


def downgrade() -> None:
    op.drop_index('ix_access_log_at', 'access_log')
    op.drop_table('nps_answers')
    op.drop_table('reuse_marks')
    op.drop_table('search_log')

"""sign-in throttling: failed attempts per account name and client address, and temporary lockouts

Revision ID: 0009_websec
Revises: 0009
Create Date: 2026-12-03 08:50:00
"""
from alembic import op
import sqlalchemy as sa

import casebook.core.db


revision = '0009_websec'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    op.create_index('ix_sign_in_failures_subject', 'sign_in_failures', ['scope', 'subject', 'at'], unique=False)
    op.create_table('sign_in_lockouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('started_at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.Column('until', casebook.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_lockouts'))
    )
    op.create_index('ix_sign_in_lockouts_subject', 'sign_in_lockouts', ['scope', 'subject', 'until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_lockouts_subject', table_name='sign_in_lockouts')
    op.drop_table('sign_in_lockouts')
    op.drop_index('ix_sign_in_failures_subject', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')

"""cases.title as TEXT: a confidential case's title is stored as an AES-GCM envelope, longer than 300 characters
(the 300-character bound on titles is policy's ``limits.field_max_chars.title``, checked on input)

Revision ID: export
Revises: 0009_inputs
Create Date: 2026-12-03 13:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'export'
down_revision = '0009_inputs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths: only PostgreSQL's column needs widening (no table rebuild there).
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("cases", "title", type_=sa.Text(), existing_type=sa.String(300), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("cases", "title", type_=sa.String(300), existing_type=sa.Text(), existing_nullable=False)

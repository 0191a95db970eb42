"""audit chain in shards (id, shard, seq), access log, keyed checkpoints

Revision ID: 0009_audit
Revises: 0009_web
Create Date: 2026-12-03 09:10:00

The single chain becomes shard 0 (its events keep their seq and hashes; the id that orders a subject's events is
the old seq) and its head row moves from id 1 to shard 0, so an existing log still verifies.
"""
from alembic import op
import sqlalchemy as sa

import casebook.core.db


revision = '0009_audit'
down_revision = '0009_web'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COLUMNS = ("seq", "at", "actor", "action", "subject_type", "subject_id", "ip", "before", "after", "details",
           "policy_version", "prev_hash", "hash")


def _events_table(name: str) -> None:
    op.create_table(name,
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('seq', BIG, nullable=False),
    sa.Column('at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('policy_version', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('shard', 'seq', name='uq_audit_events_shard_seq'))


def _heads_table(name: str) -> None:
    op.create_table(name,
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', BIG, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('shard', name=op.f(f'pk_{name}')))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.drop_index('ix_audit_subject', table_name='audit_events')
    op.rename_table('audit_events', 'audit_events_v1')
    if postgres:
        op.execute('ALTER TABLE audit_events_v1 RENAME CONSTRAINT pk_audit_events TO pk_audit_events_v1')
    _events_table('audit_events')
    cols = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO audit_events (id, shard, {cols}) SELECT seq, 0, {cols} FROM audit_events_v1")
    op.drop_table('audit_events_v1')
    if postgres:
        op.execute("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                   "COALESCE((SELECT max(id) FROM audit_events), 0) + 1, false)")
    op.create_index('ix_audit_subject', 'audit_events', ['subject_type', 'subject_id', 'id'], unique=False)

    op.rename_table('audit_head', 'audit_head_v1')
    if postgres:
        op.execute('ALTER TABLE audit_head_v1 RENAME CONSTRAINT pk_audit_head TO pk_audit_head_v1')
    _heads_table('audit_head')
    op.execute("INSERT INTO audit_head (shard, seq, hash) SELECT 0, seq, hash FROM audit_head_v1 WHERE id = 1")
    op.drop_table('audit_head_v1')

    op.create_table('access_log',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('seq', BIG, nullable=False),
    sa.Column('at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('case_key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    sa.UniqueConstraint('shard', 'seq', name='uq_access_log_shard_seq'))
    _heads_table('access_head')
    op.create_table('audit_checkpoints',
    sa.Column('id', BIG, autoincrement=False, nullable=False),
    sa.Column('at', casebook.core.db.UTCDateTime(), nullable=False),
    sa.Column('heads', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')))


def downgrade() -> None:
    raise NotImplementedError("the sharded audit log cannot be folded back into one chain")

"""due work walks an index in (due time, id) order: partial indexes for every scheduled job's due set

Revision ID: 0009_due
Revises: 0009_websec
Create Date: 2026-12-03 08:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_due'
down_revision = '0009_websec'
branch_labels = None
depends_on = None

# The same strings as lifecycle.models and review.models (a migration keeps its own copy: it must build the
# schema of its revision even after the models move on).
AWAITING_SUBMISSION = "state = 'draft'"
LIVE = "state IN ('published', 'update_due')"
PUBLISHED_ONLY = "state = 'published'"
APPROVED_ONLY = "state = 'approved'"
SCHEDULED_ONLY = "state = 'scheduled'"
LIVE_TASK = "status IN ('open', 'claimed')"


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(name, table, columns, unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    # Keyset batches walk (due time, id); with the id in the key PostgreSQL returns ties in that order, so a batch
    # reads about a batch of index entries instead of sorting the whole due set.
    op.drop_index('ix_cases_submission_due', table_name='cases')
    op.drop_index('ix_cases_expires_at', table_name='cases')
    _partial('ix_cases_submission_due', 'cases', ['submission_due', 'id'], AWAITING_SUBMISSION)
    _partial('ix_cases_expires_at', 'cases', ['expires_at', 'id'], LIVE)
    # Staleness, publish_approved and monthly_publish scanned the whole table (no index since ix_cases_state went).
    _partial('ix_cases_stale', 'cases', ['content_updated_at', 'id'], PUBLISHED_ONLY)
    _partial('ix_cases_approved', 'cases', ['state_changed_at', 'id'], APPROVED_ONLY)
    _partial('ix_cases_scheduled', 'cases', ['state_changed_at', 'id'], SCHEDULED_ONLY)
    # Review deadlines: live tasks only (decided and cancelled ones are most of the table).
    op.drop_index('ix_review_tasks_due', table_name='review_tasks')
    _partial('ix_review_tasks_live', 'review_tasks', ['due_at', 'id'], LIVE_TASK)
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at', 'id'], unique=False)
    op.create_index('ix_outbox_subject', 'outbox', ['subject_id', 'kind'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_subject', table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'], unique=False)
    op.drop_index('ix_review_tasks_live', table_name='review_tasks')
    op.create_index('ix_review_tasks_due', 'review_tasks', ['status', 'due_at'], unique=False)
    for name in ('ix_cases_scheduled', 'ix_cases_approved', 'ix_cases_stale', 'ix_cases_expires_at',
                 'ix_cases_submission_due'):
        op.drop_index(name, table_name='cases')
    _partial('ix_cases_submission_due', 'cases', ['submission_due'], "state = 'draft'")
    _partial('ix_cases_expires_at', 'cases', ['expires_at'], LIVE)

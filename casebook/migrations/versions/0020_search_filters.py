"""Search served by its index alone: state and publication-date tokens on every entry, and ``search_ratings``
(one narrow row per rated entry) for ``sort=rating``.

Revision ID: h_perf
Revises: dash
Create Date: 2026-12-03 13:00:00
"""
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = 'h_perf'
down_revision = 'dash'
branch_labels = None
depends_on = None


def _timezone() -> ZoneInfo:
    """The policy's timezone (dates are filtered by the policy's days), the default policy's if unreadable."""
    from policies.loader import load_policy

    try:
        from casebook.core.settings import Settings

        return ZoneInfo(load_policy(Settings().policy_path).doc.timezone)
    except Exception:  # noqa: BLE001 - a migration must not fail on an unreadable policy
        from pathlib import Path

        import policies

        return ZoneInfo(load_policy(Path(policies.__file__).parent / "default.yaml").doc.timezone)


def upgrade() -> None:
    op.create_table(
        'search_ratings',
        sa.Column('entry_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('rating', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['search_entries.id'], name=op.f('fk_search_ratings_entry_id_search_entries'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_search_ratings')))
    op.execute("INSERT INTO search_ratings (entry_id, rating) SELECT e.id, AVG(r.stars) FROM search_entries e "
               "JOIN case_ratings r ON r.case_id = e.case_id GROUP BY e.id")
    # Existing entries get their case's state and publication-day tokens (what library.index writes now).
    from library.index import date_facts, fact, published_day

    from casebook.core.db import UTCDateTime

    entries = sa.table('search_entries', sa.column('id', sa.Integer()), sa.column('case_id', sa.Integer()),
                       sa.column('facts', sa.Text()))
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('state', sa.String()),
                     sa.column('published_at', UTCDateTime()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries.c.id, entries.c.facts, cases.c.state, cases.c.published_at)
                        .join(cases, cases.c.id == entries.c.case_id)).all()
    if not rows:
        return
    tz = _timezone()
    update = entries.update().where(entries.c.id == sa.bindparam('b_id')).values(facts=sa.bindparam('b_facts'))
    for start in range(0, len(rows), 1000):
        bind.execute(update, [{"b_id": r.id, "b_facts": " ".join(
            [r.facts, fact("e", r.state), *date_facts(published_day(r.published_at, tz))])}
            for r in rows[start:start + 1000]])


def downgrade() -> None:
    op.drop_table('search_ratings')

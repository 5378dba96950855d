"""audit_events: an index on (task_id, event_type), for a step's own events.

The quarterly bulletin and the supervision ledger read the `task_completed` events of their
plans' steps; a completed step's page reads its one `task_completed` event, and the urging and
hand-back checks read a step's events of a kind. Without an index on task_id each of these went
through every event of the kind ever written: with two years of a province's data (40,000
events) on PostgreSQL without planner statistics the supervision ledger's query took 1.4 s, the
bulletin's page 5 s (docs/performance.md).

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_events_task_id_type', 'audit_events', ['task_id', 'event_type'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_events_task_id_type', table_name='audit_events')

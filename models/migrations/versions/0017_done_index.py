"""human_tasks: an index on (completed_by, completed_at), for 已办.

已办 lists a person's completed steps, the latest first, 50 a page, with their count. Without an
index that is a walk of every inbox row ever made: with 1,500 plans (12,000 rows) a reviewer's
page took 145 ms on SQLite, with it 61 ms (docs/performance.md), and the gap grows with the years.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_human_tasks_completed_by_at', 'human_tasks', ['completed_by', 'completed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_tasks_completed_by_at', table_name='human_tasks')

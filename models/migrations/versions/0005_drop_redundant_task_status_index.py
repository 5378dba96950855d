"""Drop ix_human_tasks_status: ix_human_tasks_status_assignee starts with the same column and
answers every query by status, and each claim, completion or cancellation wrote both.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_human_tasks_status', table_name='human_tasks')


def downgrade() -> None:
    op.create_index('ix_human_tasks_status', 'human_tasks', ['status'])

"""human_tasks.due_basis: what a task's due date was computed from (the moment, from which
working days are counted, and the variables its expression named, with their values), so that
an open task's due date follows a later change to one of them, or to the working-day calendar.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('human_tasks', sa.Column('due_basis', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('human_tasks', 'due_basis')

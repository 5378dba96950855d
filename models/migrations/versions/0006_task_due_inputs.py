"""human_tasks.due_inputs: the variables a task's due-date expression named and the values it
was computed from, so that an open task's due date follows them when a later action changes
one (e.g. the reform office sets a new filing deadline).

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
    op.add_column('human_tasks', sa.Column('due_inputs', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('human_tasks', 'due_inputs')

"""human_tasks.candidate_unit: the unit whose members of a task's candidate groups may take it
while it is open (a drafting step: the plan's lead unit), so that claim, the claimable inbox
and a leaver's hand-back leave other units' members out.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('human_tasks', sa.Column('candidate_unit', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('human_tasks', 'candidate_unit')

"""human_tasks.subject: which instance of a multi-instance activity a task belongs to (a round
of reports: the reporting body, e.g. 市财政局), so that the inbox, the ledger and the trail can
tell ten identical steps apart without loading the workflow.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('human_tasks', sa.Column('subject', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('human_tasks', 'subject')

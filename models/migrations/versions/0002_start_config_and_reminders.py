"""process settings and start permission per version; reminders on inbox rows

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        # JSON: {"properties": {...}, "starter_groups": [...], "starter_users": [...]}
        batch_op.add_column(sa.Column('start_config', sa.Text(), nullable=False, server_default='{}'))
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('start_config')

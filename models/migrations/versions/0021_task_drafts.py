"""task_drafts: 暂存, a step's form as its holder typed it, saved without submitting.

A reviewer writing a long legality opinion over two days, or a drafter filling in a meeting
record, keeps what they typed across a closed browser: one row per person and step, replaced at
each save, deleted when the step is submitted. `human_tasks.drafted` says that a step has one,
so that submitting a step without a draft costs no statement.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_drafts',
        sa.Column('task_id', sa.Integer(), sa.ForeignKey('human_tasks.id', name='fk_task_drafts_task_id_human_tasks'),
                  nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('values_json', sa.Text(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('saved_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('task_id', 'username', name='pk_task_drafts'),
    )
    op.add_column('human_tasks', sa.Column('drafted', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # in place (SQLite 3.35+), as 0018 and 0020 do: a batch copy of human_tasks would cascade to
    # its candidates
    op.drop_column('human_tasks', 'drafted')
    op.drop_table('task_drafts')

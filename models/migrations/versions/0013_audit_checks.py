"""audit_checks: a verification of the whole trail started on the web, its progress and result.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('events_checked', sa.Integer(), nullable=False),
        sa.Column('events_expected', sa.Integer(), nullable=False),
        sa.Column('files_checked', sa.Integer(), nullable=False),
        sa.Column('files_expected', sa.Integer(), nullable=False),
        sa.Column('bytes_read', sa.BigInteger(), nullable=False),
        sa.Column('bytes_expected', sa.BigInteger(), nullable=False),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('failure', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checks')),
    )
    op.create_index(op.f('ix_audit_checks_finished_at'), 'audit_checks', ['finished_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_checks_finished_at'), table_name='audit_checks')
    op.drop_table('audit_checks')

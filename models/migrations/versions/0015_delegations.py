"""delegations: someone away names a colleague to handle their work for a period (委托办理).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'delegations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('principal', sa.String(length=64), nullable=False),
        sa.Column('delegate', sa.String(length=64), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=100), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations')),
    )
    op.create_index(op.f('ix_delegations_principal'), 'delegations', ['principal'], unique=False)
    op.create_index(op.f('ix_delegations_delegate'), 'delegations', ['delegate'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_delegations_delegate'), table_name='delegations')
    op.drop_index(op.f('ix_delegations_principal'), table_name='delegations')
    op.drop_table('delegations')

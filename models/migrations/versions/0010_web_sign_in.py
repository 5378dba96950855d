"""The web inbox's sign-in: users.session_generation (signing out ends every copy of a session)
and sign_in_failures (repeated wrong passwords are refused for a while, across web workers).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
    )
    op.create_index(op.f('ix_sign_in_failures_username'), 'sign_in_failures', ['username'], unique=False)
    op.create_index(op.f('ix_sign_in_failures_address'), 'sign_in_failures', ['address'], unique=False)
    op.create_index(op.f('ix_sign_in_failures_failed_at'), 'sign_in_failures', ['failed_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sign_in_failures_failed_at'), table_name='sign_in_failures')
    op.drop_index(op.f('ix_sign_in_failures_address'), table_name='sign_in_failures')
    op.drop_index(op.f('ix_sign_in_failures_username'), table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    # SQLite drops the column in place (3.35+); a batch copy would drop and recreate `users`,
    # and with foreign keys on, that deletes every group membership (ON DELETE CASCADE)
    op.drop_column('users', 'session_generation')

"""api_tokens: when each token was last used, to within five minutes.

A person or the office deciding whether a token can go (the OA system replaced, a script
retired) needs to see whether anything still uses it.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('last_used_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('api_tokens', 'last_used_at')

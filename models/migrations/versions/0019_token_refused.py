"""api_tokens: when a refused use of each token (revoked or expired) was last recorded.

A revoked or expired token still being sent is something its owner and the auditors need to
see: a script nobody updated, or a copy of the secret in someone else's hands. Each such
attempt goes on the audit trail as `token_refused`, at most once per token every five minutes;
this column is what keeps that count down across web workers, and what the token tables show.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('refused_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('api_tokens', 'refused_at')

"""audit events: recorded_at, the real wall-clock time of each write

Revision ID: 0003
Revises: 0002

Existing events keep recorded_at NULL: they were hashed without it and still verify that way.
A plain ADD COLUMN (no batch table copy) keeps SQLite's append-only triggers on audit_events.
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('recorded_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Events written since 0003 include recorded_at in their hash: dropping the column would
    # leave a chain that can no longer be verified, so refuse rather than lose the proof.
    written = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_events WHERE recorded_at IS NOT NULL")).scalar()
    if written:
        raise RuntimeError(f"{written} audit events carry recorded_at in their hash; downgrading "
                           "below 0003 would make the audit trail unverifiable")
    op.drop_column('audit_events', 'recorded_at')

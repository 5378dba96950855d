"""audit events: the channel of an action (web, api with its token's id, cli, worker), and an index
of the events that belong to no plan

QA auditor finding 9: the trail did not say whether a completion came through the web inbox, the
JSON API (with which token) or the command line. Events written from now on carry `channel` and,
for the API, `token_id`, both in their hash (engine/audit.py `event_hash`); existing events keep
them NULL, were hashed without them and still verify that way (shown as 未记录, not recorded).
A plain ADD COLUMN (no batch table copy) keeps SQLite's append-only triggers on audit_events.

Finding 11: the auditor's page of the events of no plan reads them newest first; a partial index
on seq where instance_id IS NULL serves it without the plans' events.

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('channel', sa.String(16), nullable=True))
    op.add_column('audit_events', sa.Column('token_id', sa.Integer(), nullable=True))
    op.create_index('ix_audit_events_no_plan', 'audit_events', ['seq'],
                    postgresql_where=sa.text('instance_id IS NULL'), sqlite_where=sa.text('instance_id IS NULL'))


def downgrade() -> None:
    # Events written since 0025 include their channel in their hash: dropping the columns would
    # leave a chain that can no longer be verified, so refuse rather than lose the proof.
    written = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_events WHERE channel IS NOT NULL")).scalar()
    if written:
        raise RuntimeError(f"{written} audit events carry their channel in their hash; downgrading "
                           "below 0025 would make the audit trail unverifiable")
    op.drop_index('ix_audit_events_no_plan', table_name='audit_events')
    op.drop_column('audit_events', 'token_id')
    op.drop_column('audit_events', 'channel')

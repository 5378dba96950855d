"""每日待办摘要: users.mail_digest (the opt-in), mail_outbox.digest_on with a unique index on
(username, digest_on), and mail_digest_rounds.

A digest is one mail per person per working day. Several workers may run the mail round at
once, and one may restart: the database decides, by the unique index (a second digest for the
same person and day cannot be written) and by the day's row in mail_digest_rounds (a round
finding it does nothing more that day). Event mails keep digest_on NULL, never equal.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('mail_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mail_outbox', sa.Column('digest_on', sa.Date(), nullable=True))
    op.create_index('uq_mail_outbox_digest', 'mail_outbox', ['username', 'digest_on'], unique=True)
    op.create_table(
        'mail_digest_rounds',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('mails', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_mail_digest_rounds')),
    )


def downgrade() -> None:
    op.drop_table('mail_digest_rounds')
    op.drop_index('uq_mail_outbox_digest', table_name='mail_outbox')
    # in place (SQLite 3.35+), as 0018 drops users.email: a batch copy of `users` would cascade
    op.drop_column('mail_outbox', 'digest_on')
    op.drop_column('users', 'mail_digest')

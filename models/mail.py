"""The mail outbox: each notification is a row written in the transaction of the action that
caused it (a new step, an assignment, an urge, a reminder), so a mail goes out exactly when the
action committed, and never for one rolled back. The worker sends the rows afterwards.

`next_try_at` is when the sender takes the row next: set when queued, moved on by a failure
(backoff), NULL once sent (`sent_at`) or given up (attempts used up; kept to be seen and retried).

A daily digest (kind `digest`, engine/mail_digest.py) carries the day it is for in `digest_on`;
the unique index on (username, digest_on) lets the database, not a worker's memory, refuse a
second digest for the same person and day. Event mails leave it NULL (NULLs are never equal).
`mail_digest_rounds` has a row per day the digests were queued, so that a round finding it skips
the day's work: once per day, whichever worker comes first."""
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class MailMessage(Base):
    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # the recipient
    address: Mapped[str] = mapped_column(String(254))  # their address when it was queued
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # task_new, task_assigned, task_urged, task_reminded, task_overdue, task_late, task_returned, digest
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    digest_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the day of a daily digest

    # the sender's query: rows due (next_try_at <= now) in order; sent and given-up rows are NULL
    __table_args__ = (Index("ix_mail_outbox_due", "next_try_at", "id"),
                      Index("uq_mail_outbox_digest", "username", "digest_on", unique=True))


class MailDigestRound(Base):
    """A day whose digests were queued (Beijing date), by one worker's round."""
    __tablename__ = "mail_digest_rounds"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mails: Mapped[int] = mapped_column(Integer)  # how many digests it queued

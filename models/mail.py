"""The mail outbox: each notification is a row written in the transaction of the action that
caused it (a new step, an assignment, an urge, a reminder), so a mail goes out exactly when the
action committed, and never for one rolled back. The worker sends the rows afterwards.

`next_try_at` is when the sender takes the row next: set when queued, moved on by a failure
(backoff), NULL once sent (`sent_at`) or given up (attempts used up; kept to be seen and retried)."""
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class MailMessage(Base):
    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # the recipient
    address: Mapped[str] = mapped_column(String(254))  # their address when it was queued
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # task_new, task_assigned, task_urged, task_reminded, task_overdue, task_returned
    instance_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    # the sender's query: rows due (next_try_at <= now) in order; sent and given-up rows are NULL
    __table_args__ = (Index("ix_mail_outbox_due", "next_try_at", "id"),)

"""Comments on a plan (批注/留言): a reviewer's question to the drafter, a note for the next
reviewer, optionally about one of its tasks. Rows are only ever added (a correction is a new
comment), and the audit event of each holds its text, so the trail keeps every word."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the author's unit when they wrote it
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

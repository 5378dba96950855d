"""暂存: what the holder of a step typed into its form without submitting it yet, one draft per
person and step, replaced at each save and removed when the step is submitted. A draft is not a
decision: the submission is what the trail keeps, with its values; the trail says only that a
draft was saved, when, by whom and which fields it held."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class TaskDraft(Base):
    __tablename__ = "task_drafts"
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    values_json: Mapped[str] = mapped_column(Text)  # {field id: the text typed, or true/false}
    comment: Mapped[str] = mapped_column(Text, default="")  # a comment typed beside the form, not yet sent
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())

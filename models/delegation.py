"""Delegations (委托办理): someone away (出差、休假、学习) names a colleague to handle their work
for a period. A row is made once and changes once, when it is ended early (or its principal or
delegate is deactivated); it is never deleted, so the trail's `delegation_created` and
`delegation_ended` events always name a row."""
from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Delegation(Base):
    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(64), index=True)  # who is away
    delegate: Mapped[str] = mapped_column(String(64), index=True)  # who acts for them
    starts_on: Mapped[date] = mapped_column(Date)  # Beijing dates, both days included
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100))  # 出差、休假、学习 …
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

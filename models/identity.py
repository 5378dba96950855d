"""People and organisation: users, candidate groups (roles) and units (departments)."""
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime

memberships = Table(
    "memberships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Unit(Base):
    """A department or lead unit (牵头单位)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Group(Base):
    """A candidate group: the role a BPMN user task names in camunda:candidateGroups."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Counted up when the person signs out of the web inbox (or is deactivated): a browser
    # session remembers the count it signed in with and is over once they differ, so a copy
    # of the session cookie taken before is worth nothing afterwards (web/auth.py).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # where mail notifications go (engine/mail.py); none: the person reads the inbox only
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # 每日待办摘要: one mail each working morning listing their open steps (engine/mail_digest.py)
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit: Mapped[Unit | None] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary=memberships, order_by=Group.code)

    @property
    def group_codes(self) -> list[str]:
        return [g.code for g in self.groups]


class SignInFailure(Base):
    """A wrong user name or password typed on the web inbox's sign-in page, kept for a quarter of
    an hour so that repeated guesses are refused (web/sign_in_throttle.py). In the database,
    not in a worker's memory: every web worker must count the same failures."""

    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # as typed, cut to 64
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

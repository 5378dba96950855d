"""The append-only, hash-chained audit trail (全程留痕)."""
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class AuditEvent(Base):
    """One recorded change. Database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"
    # a person's latest events of a kind (the office's user page: last sign-in, refused ones):
    # without it, someone who rarely signs in costs a walk of every sign-in of every year
    # a step's events of a kind (its completion for the bulletin and the supervision ledger, its
    # urgings): without it, a walk of every event of that kind ever written (migration 0023)
    # the events of no plan (deploys, users, tokens, sign-ins, exports), newest first, for the
    # auditor's page of them (migration 0025): a partial index, so the plans' events cost it nothing
    __table_args__ = (Index("ix_audit_events_type_actor_seq", "event_type", "actor", "seq"),
                      Index("ix_audit_events_task_id_type", "task_id", "event_type"),
                      Index("ix_audit_events_no_plan", "seq", postgresql_where=text("instance_id IS NULL"),
                            sqlite_where=text("instance_id IS NULL")))
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON: old/new values, reason, data
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The real wall-clock time of the write (migration 0003), unlike occurred_at which is the
    # engine clock that --now can set. NULL on events written before the column existed.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # How the person acted (migration 0025, engine/channels.py): web, api (with the id of the API
    # token, never its secret), cli, or worker (timers, mail). NULL on events written before.
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditHead(Base):
    """A single row holding the chain's tip; locking it serialises appends across workers."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheck(Base):
    """One verification of the whole trail started on the web (engine/audit_checks.py): its
    progress, written as it goes so that any web worker can show it, and its result. The
    verification itself is on the trail as an `audit_verified` event; this row is its working
    copy and may be updated."""

    __tablename__ = "audit_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the last sign of life: a stale one was cut off
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    events_checked: Mapped[int] = mapped_column(Integer, default=0)
    events_expected: Mapped[int] = mapped_column(Integer, default=0)
    files_checked: Mapped[int] = mapped_column(Integer, default=0)
    files_expected: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_expected: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # VerifyResult.to_dict() as JSON
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)  # what stopped it, if it did not finish

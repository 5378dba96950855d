"""Files attached to a plan's tasks (附件): the draft, the risk report, the meeting record.
Rows are only ever added: a file sent again is a new row, and the audit event of each upload
holds its SHA-256, so a file changed in the database afterwards no longer matches it."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # In the database, not on a disk beside it: saved in the same transaction as its audit event,
    # shared by every web worker, and in every backup of the database.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    attached_by: Mapped[str] = mapped_column(String(64))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime())

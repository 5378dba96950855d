"""Personal access tokens of the JSON API (/api/v1): a person's key for their office's other
systems (the OA, a dashboard, a script), acting as them. Only the SHA-256 of the secret is kept:
the secret is shown once, when the token is made, and a copy of this table opens nothing."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # the owner: the API acts as them
    name: Mapped[str] = mapped_column(String(100))  # what the owner calls it (「OA 系统」)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # hex; never the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # to within tokens.USE_RECORDED_EVERY: written at most that often, not on every request
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the last refused use put on the trail (`token_refused`, revoked or expired), likewise at most
    # every tokens.USE_RECORDED_EVERY
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

"""Sign-in failures per username, for the lock-out when Redis is not configured."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class LoginFailure(db.Model):
    """Failed sign-ins of one username in the current window, and until when it is locked.

    Keyed by the username as typed (lower-cased), whether or not such an account exists:
    an unknown name is counted and locked alike, so the answers never tell them apart.
    """

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

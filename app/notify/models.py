"""What the service may send residents through WeChat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import TimestampMixin


class SubscribeConsent(TimestampMixin, db.Model):
    """One consent a resident gave in the mini-program to one subscribe-message template.

    WeChat allows one send per consent (一次性订阅消息): each row is spent by one push
    (``used_at`` set) and never reused.
    """

    __tablename__ = "subscribe_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The dedup key of the push that spent it, for audit.
    used_for: Mapped[str | None] = mapped_column(String(128))

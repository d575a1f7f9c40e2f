"""What the service may send residents through WeChat."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin, utcnow


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


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # 43004 not following, 43101 refused, no consent left
    DEAD = "dead"  # gave up after retries
    # WeChat may have delivered it (an unanswered send) and another try would fall outside its
    # 10-minute client_msg_id window, so could reach the resident twice: staff decide.
    REVIEW = "review"

    @property
    def label(self) -> str:
        return {
            "pending": "待发送",
            "sent": "已发送",
            "undeliverable": "无法送达",
            "dead": "发送失败",
            "review": "待核实",
        }[self.value]


class OutboxMessage(TimestampMixin, db.Model):
    """A push to WeChat, written in the same transaction as the change that causes it.

    ``dedup_key`` is unique: the same event (an opinion's step, a reminder for one reception
    and deputy…) can be queued any number of times and still becomes one message.
    """

    __tablename__ = "outbox"
    # The sender claims "pending, oldest first": a partial index keeps that fast however many
    # sent rows pile up (without it each claim scans past them all).
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # e.g. opinion_update
    channel: Mapped[str] = mapped_column(String(16))  # template | subscribe | customer
    openid: Mapped[str] = mapped_column(String(64), index=True)
    template: Mapped[str] = mapped_column(String(64), default="", server_default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(
        String(16), default=OutboxStatus.PENDING, server_default="pending", index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str] = mapped_column(String(300), default="", server_default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    msgid: Mapped[str | None] = mapped_column(String(32), index=True)  # TEMPLATESENDJOBFINISH
    # A worker's claim: the row is in flight until ``claimed_until`` (a lease; after a crash
    # the row is claimable again once it passes). ``claim_token`` names the claiming batch.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(16))
    # The first send whose answer never came (timeout, lost connection, a crash mid-batch):
    # WeChat may have delivered it, so later tries must stay inside its client_msg_id window.
    first_ambiguous_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def status_label(self) -> str:
        return OutboxStatus(self.status).label


class AuditEntry(db.Model):
    """Who did what to which record, and who saw whose contact: for auditors."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(48), index=True)  # e.g. reveal_contact
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")


class WeChatBinding(TimestampMixin, db.Model):
    """A one-time code that binds a deputy's or a staff user's WeChat (openid) to their record.

    Staff generate it in the console; the person scans its temporary QR (scene
    ``bind_<token>``, handled on subscribe/SCAN) or opens its link inside WeChat (OAuth gives
    the openid). It expires after ``BINDING_TTL_MINUTES`` and works once.
    """

    __tablename__ = "wechat_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # Exactly one of the two is set.
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputies.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_openid: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The official account's temporary QR (QR_STR_SCENE), when WeChat gave one.
    qr_ticket: Mapped[str | None] = mapped_column(String(255))
    qr_url: Mapped[str | None] = mapped_column(String(255))

    deputy = relationship("Deputy")
    staff_user = relationship("StaffUser", foreign_keys=[staff_user_id])

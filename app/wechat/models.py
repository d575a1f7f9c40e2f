"""The official account's side of the data: followers, what they follow, what WeChat sent us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import TimestampMixin, utcnow
from app.stations.models import Station


class Subscriber(TimestampMixin, db.Model):
    """A WeChat user of the official account (关注者), kept after they unsubscribe."""

    __tablename__ = "wechat_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    subscribed: Mapped[bool] = mapped_column(default=True, server_default="1")
    subscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 公告接待时间: pushes about receptions at followed stations, unless the follower opts out.
    wants_announcements: Mapped[bool] = mapped_column(default=True, server_default="1")
    # The weekly digest of the coming week's receptions at followed stations: opt-in.
    wants_weekly_digest: Mapped[bool] = mapped_column(default=False, server_default="0")

    follows: Mapped[list[StationFollow]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="StationFollow.id"
    )


class StationFollow(TimestampMixin, db.Model):
    """A follower follows a station (by scanning its plaque); one may follow several."""

    __tablename__ = "wechat_station_follows"
    __table_args__ = (UniqueConstraint("subscriber_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("wechat_subscribers.id", ondelete="CASCADE"), index=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    # "qrscene" (subscribed by scanning), "scan" (already a follower), "manual".
    via: Mapped[str] = mapped_column(String(16), default="scan", server_default="scan")
    last_scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    subscriber: Mapped[Subscriber] = relationship(back_populates="follows")
    station: Mapped[Station] = relationship()


class InboundMessage(db.Model):
    """One message or event WeChat pushed, once: the dedup key and the audit record in one row.

    WeChat retries a push it got no answer to within 5 s and sometimes delivers twice; the
    unique ``dedup_key`` (``msg:<MsgId>``, or for an event
    ``evt:<openid>:<CreateTime>:<event>[:<EventKey or MsgID>]``) makes the second delivery
    find this row and answer with the stored ``reply`` instead of acting again.
    """

    __tablename__ = "wechat_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(48), default="", server_default="")
    # WeChat's CreateTime of the message, and when we first received it.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # What came in, in short (text excerpt, event key, coordinates), and what we did about it.
    summary: Mapped[str] = mapped_column(String(200), default="", server_default="")
    action: Mapped[str] = mapped_column(String(48), default="", server_default="")
    ref: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    reply: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TemplateDelivery(db.Model):
    """WeChat's report (TEMPLATESENDJOBFINISH) on one template message, keyed by its MsgID.

    The outbox records the msgid it got when sending; this row tells whether it arrived.
    """

    __tablename__ = "wechat_template_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[int] = mapped_column(BigInteger, unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    # WeChat's words: "success", "failed:user block", "failed: system failed".
    status: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def delivered(self) -> bool:
        return self.status == "success"


class StationQrCode(TimestampMixin, db.Model):
    """The official account's permanent parametric QR of a station (scene string = station code)."""

    __tablename__ = "wechat_station_qrcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), unique=True)
    scene: Mapped[str] = mapped_column(String(64))
    ticket: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(255))

    station: Mapped[Station] = relationship()

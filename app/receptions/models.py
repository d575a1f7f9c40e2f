"""Receptions (接待活动): when and where deputies receive residents."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.deputies.models import Deputy
from app.extensions import db
from app.models_base import TimestampMixin
from app.security.crypto import EncryptedString
from app.stations.models import Station


class ReceptionKind(StrEnum):
    SERVICE_DAY = "service_day"  # 代表联系服务群众日, the third Tuesday
    TOPIC = "topic"  # 专题接待
    REPORT = "report"  # 述职
    APPOINTMENT = "appointment"  # 约见
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "service_day": "代表联系服务群众日",
            "topic": "专题接待",
            "report": "代表述职",
            "appointment": "约见",
            "other": "其他接待",
        }[self.value]


class ReceptionStatus(StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "announced": "已公告", "cancelled": "已取消"}[self.value]


class Reception(TimestampMixin, db.Model):
    __tablename__ = "receptions"
    # One generated service day a station a month: the generator's idempotency key.
    __table_args__ = (UniqueConstraint("station_id", "service_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(16), default=ReceptionKind.OTHER)
    topic: Mapped[str] = mapped_column(String(200), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=ReceptionStatus.DRAFT, server_default="draft")
    # "YYYY-MM" for generated 联系服务群众日, NULL for receptions staff create by hand.
    service_month: Mapped[str | None] = mapped_column(String(7))
    # Booking: slot length in minutes and capacity per slot; 0 capacity means no booking.
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    slot_capacity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the generator moved a service day off a holiday: staff must confirm it.
    needs_confirmation: Mapped[bool] = mapped_column(default=False, server_default="0")
    schedule_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    station: Mapped[Station] = relationship()
    duties: Mapped[list[ReceptionDuty]] = relationship(
        back_populates="reception", cascade="all, delete-orphan", order_by="ReceptionDuty.id"
    )

    @property
    def deputies(self) -> list[Deputy]:
        return [d.deputy for d in self.duties]

    @property
    def kind_label(self) -> str:
        return ReceptionKind(self.kind).label

    @property
    def status_label(self) -> str:
        return ReceptionStatus(self.status).label


class ReceptionDuty(TimestampMixin, db.Model):
    """A deputy on duty at a reception."""

    __tablename__ = "reception_duties"
    __table_args__ = (UniqueConstraint("reception_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_id: Mapped[int] = mapped_column(ForeignKey("receptions.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)

    reception: Mapped[Reception] = relationship(back_populates="duties")
    deputy: Mapped[Deputy] = relationship()


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {"booked": "已预约", "cancelled": "已取消", "attended": "已到场", "no_show": "未到场"}[
            self.value
        ]


BOOKING_STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "attended": "已到场", "no_show": "未到场"}


class Booking(TimestampMixin, db.Model):
    """A resident's place in one slot of a reception.

    Capacity is enforced by the database, not by counting: an active booking holds one
    ``seat`` number (1..capacity) of its slot, unique per slot, and one ``active_resident``
    key per reception. Cancelling clears both (NULLs never collide), so the seat is free again.
    Any number of concurrent requests can therefore never overfill a slot.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("reception_id", "slot_start", "seat"),
        UniqueConstraint("reception_id", "active_resident"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    reception_id: Mapped[int] = mapped_column(ForeignKey("receptions.id"), index=True)
    slot_start: Mapped[time] = mapped_column(Time)
    seat: Mapped[int | None] = mapped_column(Integer)
    resident_id: Mapped[str] = mapped_column(String(64), index=True)
    active_resident: Mapped[str | None] = mapped_column(String(64))
    # The resident's name and number, encrypted at rest (app/security/crypto.py).
    name: Mapped[str] = mapped_column(EncryptedString)
    mobile: Mapped[str] = mapped_column(EncryptedString)
    topic: Mapped[str] = mapped_column(String(200), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(16), default="h5", server_default="h5")
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.BOOKED, server_default="booked")
    booked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    reception: Mapped[Reception] = relationship()

    @property
    def status_label(self) -> str:
        return BookingStatus(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status == BookingStatus.BOOKED

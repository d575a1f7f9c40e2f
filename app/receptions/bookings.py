"""Booking (预约) a slot at a reception: never over capacity, one per resident per reception."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.receptions.models import Booking, BookingStatus, Reception, ReceptionStatus
from app.timeutil import local_now
from app.validation import MOBILE_RE, clean_text

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# Statuses that still hold their seat (a no-show still used the slot).
HOLDING = (BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


class SlotFull(Conflict):
    code = "slot_full"

    def __init__(self) -> None:
        super().__init__("该时段已约满，请选择其他时段。")


class AlreadyBooked(Conflict):
    code = "already_booked"

    def __init__(self, booking: Booking) -> None:
        super().__init__(f"您已预约本场接待（预约码 {booking.code}），如需改约请先取消。")
        self.booking = booking


def slots_of(reception: Reception) -> list[time]:
    """Slot start times from the reception's start to its end, ``slot_minutes`` apart."""
    if reception.slot_capacity <= 0 or reception.slot_minutes <= 0:
        return []
    day = datetime.combine(reception.date, reception.start)
    end = datetime.combine(reception.date, reception.end)
    slots = []
    while day + timedelta(minutes=reception.slot_minutes) <= end:
        slots.append(day.time())
        day += timedelta(minutes=reception.slot_minutes)
    return slots


def slot_usage(reception: Reception) -> dict[time, int]:
    """Seats taken in each slot of the reception."""
    rows = db.session.execute(
        select(Booking.slot_start, func.count())
        .where(Booking.reception_id == reception.id, Booking.status.in_(HOLDING))
        .group_by(Booking.slot_start)
    )
    usage = {slot: 0 for slot in slots_of(reception)}
    for slot, count in rows:
        usage[slot] = count
    return usage


def _active_booking(reception: Reception, resident_id: str) -> Booking | None:
    return db.session.scalar(
        select(Booking).where(Booking.reception_id == reception.id, Booking.active_resident == resident_id)
    )


def book_slot(
    *,
    reception: Reception,
    slot_start: time,
    resident_id: str,
    name: object,
    mobile: object,
    topic: object = "",
    channel: str = "h5",
    booked_by_user_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Take a seat in a slot; ``SlotFull`` when every seat is taken, whatever the concurrency."""
    now = now or local_now()
    if reception.status != ReceptionStatus.ANNOUNCED:
        raise ValidationFailed("该接待活动尚未公告或已取消，暂不能预约。", field="reception_id")
    if slot_start not in slots_of(reception):
        raise ValidationFailed("请选择本场接待的一个预约时段。", field="slot_start")
    if datetime.combine(reception.date, slot_start) <= now:
        raise ValidationFailed("该时段已开始，不能再预约。", field="slot_start")
    name = clean_text(name, "name", "姓名", max_len=32)
    mobile = clean_text(mobile, "mobile", "手机号", max_len=32)
    if not MOBILE_RE.match(mobile):
        raise ValidationFailed("请填写正确的 11 位手机号码。", field="mobile")
    topic = clean_text(topic, "topic", "反映事项", max_len=200, required=False)
    if not resident_id:
        raise Forbidden("无法识别您的身份，请从微信或页面重新进入。")
    existing = _active_booking(reception, resident_id)
    if existing is not None:
        raise AlreadyBooked(existing)

    taken = set(
        db.session.scalars(
            select(Booking.seat).where(
                Booking.reception_id == reception.id,
                Booking.slot_start == slot_start,
                Booking.seat.is_not(None),
            )
        )
    )
    free = [seat for seat in range(1, reception.slot_capacity + 1) if seat not in taken]
    # Concurrent bookers start from different seats, so fewer of them collide.
    random.shuffle(free)
    for seat in free:
        booking = Booking(
            code=_new_code(),
            reception=reception,
            slot_start=slot_start,
            seat=seat,
            resident_id=resident_id,
            active_resident=resident_id,
            name=name,
            mobile=mobile,
            topic=topic,
            channel=channel,
            booked_by_user_id=booked_by_user_id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
            return booking
        except IntegrityError:
            # Someone else took this seat (try the next), or this resident booked concurrently.
            existing = _active_booking(reception, resident_id)
            if existing is not None:
                raise AlreadyBooked(existing) from None
    raise SlotFull()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def get_booking(code: str) -> Booking:
    booking = db.session.scalar(select(Booking).where(Booking.code == (code or "").strip().upper()))
    if booking is None:
        raise NotFound("未找到该预约。")
    return booking


def cancel_booking(
    booking: Booking, *, resident_id: str | None = None, now: datetime | None = None
) -> Booking:
    """Cancel until the slot starts; frees the seat. ``resident_id`` given: only the owner may."""
    if resident_id is not None and booking.resident_id != resident_id:
        raise NotFound("未找到该预约。")
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(f"该预约{booking.status_label}，不能取消。", code="not_cancellable")
    if datetime.combine(booking.reception.date, booking.slot_start) <= (now or local_now()):
        raise Conflict("预约时段已开始，不能取消。", code="not_cancellable")
    booking.status = BookingStatus.CANCELLED
    booking.seat = None
    booking.active_resident = None
    booking.cancelled_at = utcnow()
    db.session.flush()
    return booking


def mark_attendance(booking: Booking, attended: bool) -> Booking:
    """Staff record whether the resident came (到场 / 未到场)."""
    if booking.status == BookingStatus.CANCELLED:
        raise Conflict("已取消的预约不能登记到场情况。")
    booking.status = BookingStatus.ATTENDED if attended else BookingStatus.NO_SHOW
    db.session.flush()
    return booking


def bookings_of(resident_id: str) -> list[Booking]:
    """A resident's own bookings, newest reception first."""
    return list(
        db.session.scalars(
            select(Booking)
            .join(Reception)
            .where(Booking.resident_id == resident_id)
            .order_by(Reception.date.desc(), Booking.slot_start.desc())
        )
    )


def bookings_for(reception: Reception) -> list[Booking]:
    """Everyone booked at a reception, by slot, for the staff list."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.reception_id == reception.id)
            .order_by(Booking.slot_start, Booking.id)
        )
    )

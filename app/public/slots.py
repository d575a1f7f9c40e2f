"""Receptions as a resident sees them: who is on duty, and which slots still have seats.

Read-only; booking itself goes through ``app.receptions.bookings.book_slot``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.receptions.bookings import slot_usage, slots_of
from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
from app.receptions.service import duty_at
from app.stations.models import Station

BOOKABLE_LIMIT = 6
# "<reception id>@<HH:MM>": one radio button value names both the reception and its slot.
SLOT_CHOICE_RE = re.compile(r"^(\d{1,10})@([0-2]\d:[0-5]\d)$")


@dataclass(frozen=True)
class SlotView:
    """One slot of a reception with its seats, as the booking form shows it."""

    reception_id: int
    start: time
    end: time
    capacity: int
    booked: int
    started: bool

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def full(self) -> bool:
        return self.free == 0

    @property
    def bookable(self) -> bool:
        return not self.started and not self.full

    @property
    def value(self) -> str:
        return f"{self.reception_id}@{self.start:%H:%M}"


@dataclass(frozen=True)
class ReceptionView:
    """A reception with its slots (empty when it takes no bookings)."""

    reception: Reception
    slots: list[SlotView]
    under_way: bool

    @property
    def takes_bookings(self) -> bool:
        return bool(self.slots)

    @property
    def open_slots(self) -> list[SlotView]:
        """Slots not yet started: the ones a resident can still pick (or see as 已约满)."""
        return [slot for slot in self.slots if not slot.started]

    @property
    def bookable(self) -> bool:
        return any(slot.bookable for slot in self.slots)

    @property
    def free(self) -> int:
        return sum(slot.free for slot in self.open_slots)


def reception_view(reception: Reception, now: datetime) -> ReceptionView:
    """The reception with each slot's seats taken, and whether it is under way at ``now``."""
    usage = slot_usage(reception) if reception.slot_capacity > 0 else {}
    length = timedelta(minutes=reception.slot_minutes)
    slots = []
    for start in slots_of(reception):
        begins = datetime.combine(reception.date, start)
        slots.append(
            SlotView(
                reception_id=reception.id,
                start=start,
                end=(begins + length).time(),
                capacity=reception.slot_capacity,
                booked=usage.get(start, 0),
                started=begins <= now,
            )
        )
    under_way = reception.date == now.date() and reception.start <= now.time() < reception.end
    return ReceptionView(reception=reception, slots=slots, under_way=under_way)


@dataclass(frozen=True)
class StationDuty:
    """The reception under way at a station (if any) and the next announced ones."""

    now: ReceptionView | None
    next: list[ReceptionView]

    @property
    def bookable(self) -> bool:
        return any(view.bookable for view in ([self.now] if self.now else []) + self.next)


def station_duty(station: Station, now: datetime) -> StationDuty:
    """Who is on duty now and next at a station, with seats per slot (``duty_at`` underneath)."""
    duty = duty_at(station, now)
    return StationDuty(
        now=reception_view(duty.now, now) if duty.now is not None else None,
        next=[reception_view(reception, now) for reception in duty.next],
    )


def bookable_receptions(station: Station, now: datetime, limit: int = BOOKABLE_LIMIT) -> list[ReceptionView]:
    """Announced receptions at a station that take bookings and have a slot not yet started.

    Fully booked ones are included, so the form can show their slots as 已约满.
    """
    today, clock = now.date(), now.time()
    rows = db.session.scalars(
        select(Reception)
        .where(
            Reception.station_id == station.id,
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.slot_capacity > 0,
            or_(Reception.date > today, and_(Reception.date == today, Reception.end > clock)),
        )
        .options(selectinload(Reception.duties).selectinload(ReceptionDuty.deputy))
        .order_by(Reception.date, Reception.start, Reception.id)
        .limit(limit * 2)
    )
    views = [reception_view(reception, now) for reception in rows]
    return [view for view in views if view.open_slots][:limit]


def parse_slot_choice(raw: object) -> tuple[int, time]:
    """The reception id and slot start a booking form's ``slot`` radio names."""
    match = SLOT_CHOICE_RE.match(str(raw or "").strip())
    if match is None:
        raise ValidationFailed("请选择一个预约时段。", field="slot")
    try:
        start = time.fromisoformat(match.group(2))
    except ValueError:
        raise ValidationFailed("请选择一个预约时段。", field="slot") from None
    return int(match.group(1)), start


def station_reception(station: Station, reception_id: int) -> Reception:
    """An announced reception of this station, or ``NotFound`` (drafts and others' are invisible)."""
    reception = db.session.get(Reception, reception_id)
    if (
        reception is None
        or reception.station_id != station.id
        or reception.status != ReceptionStatus.ANNOUNCED
    ):
        raise NotFound("该接待活动不存在或已取消，请重新选择。")
    return reception


WEEKDAYS = "一二三四五六日"


def cn_date(day: date | datetime | None, with_year: bool = False) -> str:
    """12月15日（周二）: how dates read on the resident's pages."""
    if day is None:
        return ""
    text = f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"
    return f"{day.year}年{text}" if with_year else text

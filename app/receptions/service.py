"""Rules for receptions: the third Tuesday, and who is on duty when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.deputies.models import Deputy
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.receptions.models import Reception, ReceptionDuty, ReceptionKind, ReceptionStatus
from app.stations.models import Station, StationStatus
from app.workdays.service import holiday_name, is_workday, next_workday


def third_tuesday(year: int, month: int) -> date:
    """三(二)2: 每月第三周的星期二 is the 代表联系服务群众日."""
    first = date(year, month, 1)
    first_tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + timedelta(weeks=2)


@dataclass
class Duty:
    """Who is receiving residents at a station now, and the next announced receptions."""

    now: Reception | None = None
    next: list[Reception] = field(default_factory=list)


def duty_at(station: Station, moment: datetime, *, upcoming: int = 3) -> Duty:
    """The announced reception under way at ``moment`` (local time) and the next ones."""
    today, clock = moment.date(), moment.time()
    base = (
        select(Reception)
        .where(Reception.station_id == station.id, Reception.status == ReceptionStatus.ANNOUNCED)
        .options(selectinload(Reception.duties).selectinload(ReceptionDuty.deputy))
    )
    current = db.session.scalars(
        base.where(Reception.date == today, Reception.start <= clock, Reception.end > clock)
    ).first()
    later = db.session.scalars(
        base.where(or_(Reception.date > today, and_(Reception.date == today, Reception.start > clock)))
        .order_by(Reception.date, Reception.start)
        .limit(upcoming)
    ).all()
    return Duty(now=current, next=list(later))


# --- 联系服务群众日 generation ----------------------------------------------------------------


@dataclass
class ServiceDayDefaults:
    """How a generated 联系服务群众日 looks, from configuration."""

    start: time
    end: time
    slot_minutes: int
    slot_capacity: int
    deputies: int  # at least this many on duty, more when needed to reach everyone in the year

    @classmethod
    def from_config(cls, config: Mapping) -> ServiceDayDefaults:
        return cls(
            start=time.fromisoformat(config.get("SERVICE_DAY_START", "09:00")),
            end=time.fromisoformat(config.get("SERVICE_DAY_END", "11:30")),
            slot_minutes=int(config.get("SERVICE_DAY_SLOT_MINUTES", 30)),
            slot_capacity=int(config.get("SERVICE_DAY_SLOT_CAPACITY", 5)),
            deputies=int(config.get("SERVICE_DAY_DEPUTIES", 2)),
        )


@dataclass
class GenerateReport:
    month: str
    created: list[Reception] = field(default_factory=list)
    existing: int = 0
    moved: list[Reception] = field(default_factory=list)  # off a holiday: staff must confirm
    without_deputies: list[Station] = field(default_factory=list)


def parse_month(text: str) -> tuple[int, int]:
    """ "2026-12" → (2026, 12), with a Chinese message for anything else."""
    try:
        year, month = (int(part) for part in str(text).split("-"))
        date(year, month, 1)
    except ValueError:
        raise ValidationFailed("月份格式应为 YYYY-MM，例如 2026-12。", field="month") from None
    if not 2000 <= year <= 2100:
        raise ValidationFailed("月份超出范围。", field="month")
    return year, month


def service_day_for(year: int, month: int) -> tuple[date, str]:
    """The month's service day and, when the third Tuesday is a holiday, why it moved."""
    planned = third_tuesday(year, month)
    if is_workday(planned):
        return planned, ""
    moved = next_workday(planned)
    name = holiday_name(planned) or "非工作日"
    note = f"本月第三个星期二（{planned:%m月%d日}）为{name}，已顺延至{moved:%m月%d日}，请工作人员确认。"
    return moved, note


def _duty_counts(year: int, deputy_ids: list[int]) -> dict[int, tuple[int, date | None]]:
    """For each deputy: receptions on duty this year (not cancelled) and the last one's date."""
    rows = db.session.execute(
        select(ReceptionDuty.deputy_id, func.count(), func.max(Reception.date))
        .join(Reception)
        .where(
            ReceptionDuty.deputy_id.in_(deputy_ids),
            Reception.status != ReceptionStatus.CANCELLED,
            Reception.date >= date(year, 1, 1),
            Reception.date <= date(year, 12, 31),
        )
        .group_by(ReceptionDuty.deputy_id)
    )
    counts = {deputy_id: (0, None) for deputy_id in deputy_ids}
    for deputy_id, count, last in rows:
        counts[deputy_id] = (count, last)
    return counts


def choose_on_duty(station: Station, year: int, month: int, minimum: int) -> list[Deputy]:
    """Deputies for a service day, rotating so every placed deputy serves at least once a year.

    三(二)2: 每位代表每年到“家站点”接待选民群众不少于1次. Those with the fewest duties this year
    (then the longest since their last) go first; when more deputies have not yet served than
    there are service days left, more are put on duty so nobody is missed.
    """
    deputies = [d for d in station.deputies if d.active]
    if not deputies:
        return []
    counts = _duty_counts(year, [d.id for d in deputies])
    unserved = sum(1 for d in deputies if counts[d.id][0] == 0)
    months_left = 12 - month + 1
    wanted = max(minimum, -(-unserved // months_left))
    ranked = sorted(deputies, key=lambda d: (counts[d.id][0], counts[d.id][1] or date.min, d.id))
    return ranked[: min(wanted, len(ranked))]


def generate_service_days(month: str, defaults: ServiceDayDefaults) -> GenerateReport:
    """Create the month's 联系服务群众日 at every active station; idempotent.

    Where the third Tuesday is a holiday the day moves to the next working day and is left as
    a draft flagged for staff to confirm, instead of being scheduled silently.
    """
    year, month_no = parse_month(month)
    key = f"{year:04d}-{month_no:02d}"
    report = GenerateReport(month=key)
    day, note = service_day_for(year, month_no)
    done = set(db.session.scalars(select(Reception.station_id).where(Reception.service_month == key)))
    stations = db.session.scalars(
        select(Station)
        .where(Station.status == StationStatus.ACTIVE)
        .options(selectinload(Station.placements))
        .order_by(Station.id)
    )
    for station in stations:
        if station.id in done:
            report.existing += 1
            continue
        on_duty = choose_on_duty(station, year, month_no, defaults.deputies)
        reception = Reception(
            station=station,
            date=day,
            start=defaults.start,
            end=defaults.end,
            kind=ReceptionKind.SERVICE_DAY,
            topic="代表联系服务群众日",
            service_month=key,
            slot_minutes=defaults.slot_minutes,
            slot_capacity=defaults.slot_capacity,
            status=ReceptionStatus.DRAFT if note else ReceptionStatus.ANNOUNCED,
            needs_confirmation=bool(note),
            schedule_note=note,
            announced_at=None if note else utcnow(),
        )
        reception.duties = [ReceptionDuty(deputy=d) for d in on_duty]
        db.session.add(reception)
        # Flush per station: the next station's rotation must see this one's duties.
        db.session.flush()
        report.created.append(reception)
        if note:
            report.moved.append(reception)
        if not on_duty:
            report.without_deputies.append(station)
    return report


def confirm_schedule(reception: Reception, new_date: date | None = None) -> Reception:
    """Staff confirm a moved service day (optionally on another date) and announce it."""
    if not reception.needs_confirmation:
        raise Conflict("该接待活动无需确认日期。")
    if new_date is not None:
        if not is_workday(new_date):
            raise ValidationFailed(f"{new_date:%Y-%m-%d} 不是工作日，请另选日期。", field="date")
        reception.date = new_date
    reception.needs_confirmation = False
    reception.schedule_note = ""
    reception.status = ReceptionStatus.ANNOUNCED
    reception.announced_at = utcnow()
    db.session.flush()
    return reception

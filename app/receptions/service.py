"""Rules for receptions: the third Tuesday, and who is on duty when."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.auth.service import can_edit_station_info
from app.deputies.models import Deputy
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.local_cache import app_cache
from app.models_base import utcnow
from app.receptions.bookings import HOLDING, book_slot, mark_attendance
from app.receptions.models import Booking, Reception, ReceptionDuty, ReceptionKind, ReceptionStatus
from app.stations.models import Station, StationStatus
from app.timeutil import local_now
from app.validation import clean_int, clean_text
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


@dataclass(frozen=True)
class ReceptionBrief:
    """A reception as the official account words it: when, what, and who is on duty."""

    id: int
    date: date
    start: time
    end: time
    kind: str
    topic: str
    deputy_names: tuple[str, ...]

    @property
    def kind_label(self) -> str:
        return ReceptionKind(self.kind).label


@dataclass(frozen=True)
class DutyBrief:
    now: ReceptionBrief | None = None
    next: tuple[ReceptionBrief, ...] = ()


# Other workers see a reception announced, moved or cancelled elsewhere within this many seconds.
DUTY_CACHE_S = 30
# Receptions kept per station: the one under way, the next, and one spare for when one ends.
_DUTY_ROWS = 3
_receptions, _duties, _deputies = Reception.__table__, ReceptionDuty.__table__, Deputy.__table__
_soon = (
    select(_receptions.c.id, _receptions.c.date, _receptions.c.start, _receptions.c.end)
    .add_columns(_receptions.c.kind, _receptions.c.topic)
    .where(
        _receptions.c.station_id == bindparam("station_id"),
        _receptions.c.status == ReceptionStatus.ANNOUNCED,
        or_(
            _receptions.c.date > bindparam("today"),
            and_(_receptions.c.date == bindparam("today"), _receptions.c.end > bindparam("clock")),
        ),
    )
    .order_by(_receptions.c.date, _receptions.c.start, _receptions.c.id)
    .limit(_DUTY_ROWS)
    .subquery()
)
# The next receptions and their deputies' names in one round trip.
_SOON_WITH_DEPUTIES = (
    select(_soon, _deputies.c.name)
    .select_from(
        _soon.outerjoin(_duties, _duties.c.reception_id == _soon.c.id).outerjoin(
            _deputies, _deputies.c.id == _duties.c.deputy_id
        )
    )
    .order_by(_soon.c.date, _soon.c.start, _soon.c.id, _duties.c.id)
)


def _receptions_not_over(station_id: int, moment: datetime) -> tuple[ReceptionBrief, ...]:
    params = {"station_id": station_id, "today": moment.date(), "clock": moment.time()}
    briefs: dict[int, tuple] = {}
    names: dict[int, list[str]] = {}
    for row in db.session.execute(_SOON_WITH_DEPUTIES, params):
        if row.id not in briefs:
            briefs[row.id] = (row.id, row.date, row.start, row.end, row.kind, row.topic or "")
            names[row.id] = []
        if row.name is not None:
            names[row.id].append(row.name)
    return tuple(ReceptionBrief(*fields, tuple(names[rid])) for rid, fields in briefs.items())


def duty_brief_at(station_id: int, moment: datetime) -> DutyBrief:
    """The announced reception under way at ``moment`` (local time) and the next one.

    For the official account, which asks on every scan: one statement, and none at all while
    this worker's copy is fresh (``DUTY_CACHE_S``; forgotten at once when it writes a
    reception, a duty or a deputy itself).
    """
    cache = app_cache("duty_by_station", DUTY_CACHE_S, (Reception, ReceptionDuty, Deputy, Station))
    rows = cache.get(station_id, lambda: _receptions_not_over(station_id, moment))
    today, clock = moment.date(), moment.time()
    # The copy may be a little older than ``moment``: drop what has ended since.
    rows = [r for r in rows if r.date > today or (r.date == today and r.end > clock)]
    current = None
    if rows and rows[0].date == today and rows[0].start <= clock:
        current = rows.pop(0)
    return DutyBrief(now=current, next=tuple(rows[:1]))


def duty_at(station: Station, moment: datetime, *, upcoming: int = 3) -> Duty:
    """The announced reception under way at ``moment`` (local time) and the next ones."""
    today, clock = moment.date(), moment.time()
    # One query for "not yet over", soonest first: the head is under way if it has started.
    # Every WeChat scan asks this, so it stays at two round trips (receptions, their deputies).
    rows = db.session.scalars(
        select(Reception)
        .where(
            Reception.station_id == station.id,
            Reception.status == ReceptionStatus.ANNOUNCED,
            or_(Reception.date > today, and_(Reception.date == today, Reception.end > clock)),
        )
        .order_by(Reception.date, Reception.start, Reception.id)
        .limit(upcoming + 1)
        .options(selectinload(Reception.duties).joinedload(ReceptionDuty.deputy))
    ).all()
    current = None
    if rows and rows[0].date == today and rows[0].start <= clock:
        current = rows.pop(0)
    later = [r for r in rows if r.date > today or r.start > clock]
    return Duty(now=current, next=later[:upcoming])


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


def generate_service_days(
    month: str, defaults: ServiceDayDefaults, *, within: ColumnElement[bool] | None = None
) -> GenerateReport:
    """Create the month's 联系服务群众日 at every active station; idempotent.

    Where the third Tuesday is a holiday the day moves to the next working day and is left as
    a draft flagged for staff to confirm, instead of being scheduled silently. ``within``
    limits the stations (the console passes the caller's scope).
    """
    year, month_no = parse_month(month)
    key = f"{year:04d}-{month_no:02d}"
    report = GenerateReport(month=key)
    day, note = service_day_for(year, month_no)
    done = set(db.session.scalars(select(Reception.station_id).where(Reception.service_month == key)))
    stations = db.session.scalars(
        select(Station)
        .where(Station.status == StationStatus.ACTIVE, true() if within is None else within)
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
        else:
            _tell_followers(reception)
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
    _tell_followers(reception)
    return reception


# --- receptions staff plan and run by hand ----------------------------------------------------

SLOT_MINUTES = (10, 240)
SLOT_CAPACITY = (0, 200)
TOPIC_MAX = 200
CANCEL_REASON_MAX = 150


def can_run_receptions(user: StaffUser, station: Station) -> bool:
    """Station staff run their own station's receptions; admins those of stations in their region."""
    return can_edit_station_info(user, station)


def _parse_date(raw: object, field: str = "date", label: str = "接待日期") -> date:
    text = str(raw or "").strip()
    if not text:
        raise ValidationFailed(f"请填写{label}。", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 YYYY-MM-DD。", field=field) from None


def _parse_time(raw: object, field: str, label: str) -> time:
    text = str(raw or "").strip()
    if not text:
        raise ValidationFailed(f"请填写{label}。", field=field)
    try:
        return time.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 HH:MM，例如 09:00。", field=field) from None


def _slot_starts(day: date, start: time, end: time, minutes: int) -> list[time]:
    """The slot start times a reception of these hours would offer (same rule as ``slots_of``)."""
    moment, finish = datetime.combine(day, start), datetime.combine(day, end)
    starts = []
    while moment + timedelta(minutes=minutes) <= finish:
        starts.append(moment.time())
        moment += timedelta(minutes=minutes)
    return starts


def _clean_schedule(data: Mapping[str, object]) -> dict:
    """Date, hours, kind, topic and booking settings from a form, checked; Chinese messages."""
    try:
        kind = ReceptionKind(str(data.get("kind") or ""))
    except ValueError:
        raise ValidationFailed("请选择接待类型。", field="kind") from None
    day = _parse_date(data.get("date"))
    start = _parse_time(data.get("start"), "start", "开始时间")
    end = _parse_time(data.get("end"), "end", "结束时间")
    if end <= start:
        raise ValidationFailed("结束时间应晚于开始时间。", field="end")
    topic = clean_text(data.get("topic"), "topic", "接待主题", max_len=TOPIC_MAX, required=False)
    if not topic:
        if kind is ReceptionKind.TOPIC:
            raise ValidationFailed("专题接待请填写接待主题。", field="topic")
        topic = kind.label
    minutes = clean_int(
        data.get("slot_minutes"),
        "slot_minutes",
        "每个预约时段的分钟数",
        lo=SLOT_MINUTES[0],
        hi=SLOT_MINUTES[1],
    )
    capacity = clean_int(
        data.get("slot_capacity"),
        "slot_capacity",
        "每时段可预约人数",
        lo=SLOT_CAPACITY[0],
        hi=SLOT_CAPACITY[1],
    )
    minutes = 30 if minutes is None else minutes
    capacity = 0 if capacity is None else capacity
    length = (datetime.combine(day, end) - datetime.combine(day, start)).seconds // 60
    if capacity and minutes > length:
        raise ValidationFailed(
            f"每个预约时段 {minutes} 分钟，超过了接待时长（{length} 分钟）；请缩短时段或延长接待时间。",
            field="slot_minutes",
        )
    return {
        "kind": kind.value,
        "date": day,
        "start": start,
        "end": end,
        "topic": topic,
        "slot_minutes": minutes,
        "slot_capacity": capacity,
    }


def _on_duty(station: Station, deputy_ids: Iterable[object]) -> list[Deputy]:
    """The chosen deputies, each of whom must be placed at the station and serving."""
    placed = {deputy.id: deputy for deputy in station.deputies}
    chosen: list[Deputy] = []
    for raw in deputy_ids:
        text = str(raw or "").strip()
        if not text:
            continue
        deputy = placed.get(int(text)) if text.isdigit() else None
        if deputy is None:
            raise ValidationFailed("值班代表只能从编入本站的代表中选择。", field="deputy_ids")
        if not deputy.active:
            raise ValidationFailed(f"{deputy.name}已不在任，不能安排值班。", field="deputy_ids")
        if deputy not in chosen:
            chosen.append(deputy)
    return chosen


def _claim_service_month(reception: Reception) -> None:
    """三(二)2: one 代表联系服务群众日 a station a month; a hand-made one holds its month too."""
    if reception.kind != ReceptionKind.SERVICE_DAY:
        reception.service_month = None
        return
    key = f"{reception.date:%Y-%m}"
    if reception.service_month == key:
        return
    where = [Reception.station_id == reception.station_id, Reception.service_month == key]
    if reception.id is not None:
        where.append(Reception.id != reception.id)
    holder = db.session.scalar(select(Reception).where(*where))
    if holder is not None:
        if holder.status != ReceptionStatus.CANCELLED:
            raise Conflict(
                f"本站 {key} 已有代表联系服务群众日（{holder.date:%m月%d日}），每月一次；"
                "请修改那一场，或选择其他接待类型。",
                field="kind",
            )
        holder.service_month = None  # a cancelled one gives its month up
        db.session.flush()  # before this one takes the unique key
    reception.service_month = key


def _ends_at(reception: Reception) -> datetime:
    return datetime.combine(reception.date, reception.end)


def _check_announceable(reception: Reception, now: datetime) -> None:
    if not reception.duties:
        raise ValidationFailed("请至少安排一名值班代表，再公告接待活动。", field="deputy_ids")
    if _ends_at(reception) <= now:
        raise ValidationFailed("接待时间已过，不能公告。", field="date")


def _tell_followers(reception: Reception) -> None:
    """公告接待时间: queue the push to the station's followers, in this transaction (issue 7)."""
    from app.notify.fanout import announce_to_followers

    announce_to_followers(reception)


def _announce(reception: Reception, now: datetime) -> None:
    _check_announceable(reception, now)
    reception.status = ReceptionStatus.ANNOUNCED
    reception.announced_at = utcnow()


def create_reception(
    station: Station,
    data: Mapping[str, object],
    *,
    deputy_ids: Iterable[object] = (),
    announce: bool = False,
    now: datetime | None = None,
) -> Reception:
    """Plan a reception at a station, as a draft or announced at once; never in the past."""
    now = now or local_now()
    if not station.is_active:
        raise ValidationFailed("该家站点未在运行，不能安排接待活动。", field="station_id")
    fields = _clean_schedule(data)
    if fields["date"] < now.date():
        raise ValidationFailed("接待日期不能早于今天。", field="date")
    if datetime.combine(fields["date"], fields["end"]) <= now:
        raise ValidationFailed("结束时间已过，请选择以后的时间。", field="end")
    reception = Reception(station=station, station_id=station.id, status=ReceptionStatus.DRAFT, **fields)
    reception.duties = [ReceptionDuty(deputy=deputy) for deputy in _on_duty(station, deputy_ids)]
    _claim_service_month(reception)
    if announce:
        _announce(reception, now)
    db.session.add(reception)
    db.session.flush()
    if announce:
        _tell_followers(reception)
    return reception


def _held_seats(reception: Reception) -> dict[time, list[Booking]]:
    """Bookings still holding a seat (booked, attended, no-show), by slot."""
    held: dict[time, list[Booking]] = {}
    rows = db.session.scalars(
        select(Booking)
        .where(Booking.reception_id == reception.id, Booking.status.in_(HOLDING))
        .order_by(Booking.slot_start, Booking.seat)
    )
    for booking in rows:
        held.setdefault(booking.slot_start, []).append(booking)
    return held


def _check_seats_kept(held: dict[time, list[Booking]], reception: Reception, fields: dict) -> None:
    """New hours, slot length or capacity must keep every seat residents already hold."""
    taken = sum(len(rows) for rows in held.values())
    if fields["date"] != reception.date:
        raise Conflict(
            f"已有 {taken} 人预约本场，不能更改日期；如需改期，请取消本场并另行安排。", field="date"
        )
    capacity = fields["slot_capacity"]
    if capacity == 0:
        raise Conflict(
            f"已有 {taken} 人预约本场，不能关闭预约（每时段人数不能设为 0）。", field="slot_capacity"
        )
    slots = _slot_starts(fields["date"], fields["start"], fields["end"], fields["slot_minutes"])
    for slot, rows in sorted(held.items()):
        if slot not in slots:
            raise Conflict(
                f"{slot:%H:%M} 时段已有 {len(rows)} 人预约，调整后的时间和时段长度必须保留这个时段。",
                field="slot_minutes",
            )
        if len(rows) > capacity:
            raise Conflict(
                f"{slot:%H:%M} 时段已有 {len(rows)} 人预约，每时段可预约人数不能少于 {len(rows)}。",
                field="slot_capacity",
            )


def _compact_seats(held: dict[time, list[Booking]], capacity: int) -> None:
    """Move held seats numbered above a lowered capacity into free seats below it.

    Capacity is enforced by seat numbers (1..capacity, unique per slot); a seat left above
    the new capacity would let the freed low number be booked again, overfilling the slot.
    """
    for rows in held.values():
        used = {booking.seat for booking in rows if booking.seat is not None and booking.seat <= capacity}
        free = (seat for seat in range(1, capacity + 1) if seat not in used)
        for booking in rows:
            if booking.seat is None or booking.seat > capacity:
                booking.seat = next(free)


def update_reception(
    reception: Reception,
    data: Mapping[str, object],
    *,
    deputy_ids: Iterable[object] = (),
    now: datetime | None = None,
) -> Reception:
    """Change a reception's time, kind, topic, deputies or booking; never below seats already taken."""
    now = now or local_now()
    if reception.status == ReceptionStatus.CANCELLED:
        raise Conflict("已取消的接待活动不能修改。")
    fields = _clean_schedule(data)
    moved = (fields["date"], fields["start"], fields["end"]) != (
        reception.date,
        reception.start,
        reception.end,
    )
    if moved and datetime.combine(fields["date"], fields["end"]) <= now:
        raise ValidationFailed("调整后的接待时间已过，请选择以后的时间。", field="date")
    held = _held_seats(reception)
    if held:
        _check_seats_kept(held, reception, fields)
    deputies = _on_duty(reception.station, deputy_ids)
    if reception.status == ReceptionStatus.ANNOUNCED and not deputies:
        raise ValidationFailed("已公告的接待活动至少要有一名值班代表。", field="deputy_ids")

    for name, value in fields.items():
        setattr(reception, name, value)
    kept = {duty.deputy_id: duty for duty in reception.duties}
    # Keep the rows of deputies who stay: deleting and re-adding one would collide on flush.
    reception.duties = [kept.get(deputy.id) or ReceptionDuty(deputy=deputy) for deputy in deputies]
    _claim_service_month(reception)
    _compact_seats(held, reception.slot_capacity)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # A resident took a seat while the capacity was being lowered.
        raise Conflict("有群众正在预约本场，请稍后再保存。") from None
    return reception


def announce_reception(reception: Reception, *, now: datetime | None = None) -> Reception:
    """Publish a draft: residents see it and may book (事先提前预告)."""
    if reception.status == ReceptionStatus.ANNOUNCED:
        raise Conflict("该接待活动已公告。")
    if reception.status == ReceptionStatus.CANCELLED:
        raise Conflict("已取消的接待活动不能公告。")
    if reception.needs_confirmation:
        raise Conflict("该场因节假日顺延，请先确认日期。")
    _announce(reception, now or local_now())
    db.session.flush()
    _tell_followers(reception)
    return reception


def cancel_reception(reception: Reception, reason: object, *, now: datetime | None = None) -> Reception:
    """Call a reception off with a reason; its bookings stay on record for staff to inform."""
    if reception.status == ReceptionStatus.CANCELLED:
        raise Conflict("该接待活动已取消。")
    if _ends_at(reception) <= (now or local_now()):
        raise Conflict("接待活动已结束，不能取消。")
    text = clean_text(reason, "reason", "取消原因", max_len=CANCEL_REASON_MAX)
    reception.status = ReceptionStatus.CANCELLED
    reception.needs_confirmation = False
    # No column of its own yet: the schedule note carries the reason (shown with the status).
    reception.schedule_note = f"已取消：{text}"
    db.session.flush()
    return reception


def confirm_moved_day(
    reception: Reception, raw_date: object = "", *, now: datetime | None = None
) -> Reception:
    """Staff confirm a service day moved off a holiday, optionally on another working day of its month."""
    now = now or local_now()
    if reception.status == ReceptionStatus.CANCELLED:
        raise Conflict("已取消的接待活动无需确认。")
    if not reception.needs_confirmation:
        raise Conflict("该接待活动无需确认日期。")
    new_date = _parse_date(raw_date, "date", "日期") if str(raw_date or "").strip() else None
    day = new_date or reception.date
    if day < now.date():
        raise ValidationFailed("日期已过，请另选一个工作日。", field="date")
    if reception.service_month and f"{day:%Y-%m}" != reception.service_month:
        raise ValidationFailed(
            f"本场是 {reception.service_month} 的联系服务群众日，请在当月内选择日期。", field="date"
        )
    if not reception.duties:
        raise ValidationFailed(
            "本场还没有值班代表：请先修改本场、安排值班代表，再确认公告。", field="deputy_ids"
        )
    return confirm_schedule(reception, new_date)


def record_attendance(booking: Booking, attended: bool, *, now: datetime | None = None) -> Booking:
    """Mark 到场 / 未到场, from the day of the reception on."""
    reception = booking.reception
    if reception.status == ReceptionStatus.CANCELLED:
        raise Conflict("接待活动已取消，无需登记到场情况。")
    if (now or local_now()).date() < reception.date:
        raise Conflict("接待活动当天起才能登记到场情况。")
    return mark_attendance(booking, attended)


def staff_resident_id(mobile: str) -> str:
    """Who a resident booked by staff is: ``staff:`` and the blind index of their mobile."""
    from app.security.crypto import blind_index

    return "staff:" + blind_index(mobile)[:40]


def book_for_resident(
    reception: Reception,
    *,
    slot: object,
    name: object,
    mobile: object,
    topic: object = "",
    staff_user_id: int,
    now: datetime | None = None,
) -> Booking:
    """Staff book a slot on a resident's behalf (by phone or at the desk); same seats, same limits."""
    slot_text = str(slot or "").strip()
    try:
        slot_start = time.fromisoformat(slot_text)
    except ValueError:
        raise ValidationFailed("请选择预约时段。", field="slot_start") from None
    mobile_text = str(mobile or "").strip()
    return book_slot(
        reception=reception,
        slot_start=slot_start,
        # One active booking per resident per reception: a resident booked by staff is their
        # mobile, as a keyed HMAC (the number itself is only stored encrypted).
        resident_id=staff_resident_id(mobile_text),
        name=name,
        mobile=mobile_text,
        topic=topic,
        channel="staff",
        booked_by_user_id=staff_user_id,
        now=now,
    )

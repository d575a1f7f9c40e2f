"""接待活动: receptions at the stations in the user's scope, their deputies on duty and bookings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role
from app.auth.scope import scoped_select, visible
from app.auth.service import require
from app.console.access import (
    RECEPTION_VIEWERS,
    STATION_WORKERS,
    arg_id,
    count_visible,
    form_data,
    invalid,
    me,
    paginate,
    pick,
    roles,
    visible_or_404,
)
from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.ledger.models import Activity
from app.receptions.bookings import AlreadyBooked, SlotFull, bookings_for, cancel_booking, slot_usage
from app.receptions.models import (
    Booking,
    BookingStatus,
    Reception,
    ReceptionDuty,
    ReceptionKind,
    ReceptionStatus,
)
from app.receptions.service import (
    ServiceDayDefaults,
    announce_reception,
    book_for_resident,
    can_run_receptions,
    cancel_reception,
    confirm_moved_day,
    create_reception,
    generate_service_days,
    parse_month,
    record_attendance,
    update_reception,
)
from app.stations.models import Station, StationStatus
from app.timeutil import local_now, to_local

VIEWERS = RECEPTION_VIEWERS
RUNNERS = STATION_WORKERS
GENERATORS = frozenset({Role.CITY_ADMIN})
STATION_PICKER_LIMIT = 500
FORM_TEMPLATE = "console/receptions/form.html"
DETAIL_TEMPLATE = "console/receptions/detail.html"


def _month_range(text: str) -> tuple[date, date] | None:
    """First and last day of a ``YYYY-MM`` filter; ``None`` when blank or not a month."""
    try:
        year, month = parse_month(text)
    except ValidationFailed:
        return None
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _month_key(day: date, months_ahead: int = 0) -> str:
    index = day.year * 12 + day.month - 1 + months_ahead
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _runnable_stations() -> list[Station]:
    """Active stations in the user's scope, for the station select of a new reception."""
    stmt = scoped_select(Station, me(), Station.status == StationStatus.ACTIVE)
    return list(db.session.scalars(stmt.order_by(Station.name, Station.id).limit(STATION_PICKER_LIMIT)))


def _reception_or_404(reception_id: int) -> Reception:
    return visible_or_404(Reception, reception_id)


def _managed(reception_id: int) -> Reception:
    reception = _reception_or_404(reception_id)
    require(can_run_receptions(me(), reception.station), "只能管理您负责的家站点的接待活动。")
    return reception


@roles(VIEWERS)
def index():
    user = me()
    where: list[Any] = []
    station_id = arg_id("station")
    if station_id is not None:
        where.append(Reception.station_id == station_id)
    kind = request.args.get("kind", "")
    if kind in ReceptionKind.__members__.values():
        where.append(Reception.kind == kind)
    status = request.args.get("status", "")
    if status in ReceptionStatus.__members__.values():
        where.append(Reception.status == status)
    month = request.args.get("month", "").strip()[:7]
    span = _month_range(month) if month else None
    if span is not None:
        where.append(Reception.date.between(*span))
    pending = request.args.get("pending") == "1"
    if pending:
        where.append(Reception.needs_confirmation.is_(True))
    stmt = (
        scoped_select(Reception, user, *where)
        .options(
            selectinload(Reception.station),
            selectinload(Reception.duties).selectinload(ReceptionDuty.deputy),
        )
        .order_by(Reception.date.desc(), Reception.start.desc(), Reception.id.desc())
    )
    today = local_now().date()
    return render_template(
        "console/receptions/list.html",
        page=paginate(stmt),
        station_id=station_id,
        kind=kind,
        status=status,
        month=month if span is not None else "",
        pending=pending,
        pending_count=count_visible(
            Reception,
            Reception.needs_confirmation.is_(True),
            Reception.status != ReceptionStatus.CANCELLED,
        ),
        stations=list(
            db.session.scalars(
                scoped_select(Station, user).order_by(Station.name).limit(STATION_PICKER_LIMIT)
            )
        ),
        kinds=list(ReceptionKind),
        statuses=list(ReceptionStatus),
        can_create=user.role_enum in RUNNERS,
        can_generate=user.role_enum in GENERATORS,
        generate_months=[_month_key(today), _month_key(today, 1)],
        today=today,
    )


def _new_form(station: Station | None) -> dict[str, Any]:
    config = current_app.config
    tomorrow = local_now().date() + timedelta(days=1)
    return {
        "station_id": station.id if station else "",
        "kind": ReceptionKind.TOPIC.value,
        "date": tomorrow.isoformat(),
        "start": config.get("SERVICE_DAY_START", "09:00"),
        "end": config.get("SERVICE_DAY_END", "11:30"),
        "slot_minutes": config.get("SERVICE_DAY_SLOT_MINUTES", 30),
        "slot_capacity": config.get("SERVICE_DAY_SLOT_CAPACITY", 5),
    }


def _form_context(station: Station | None, reception: Reception | None = None, **extra: Any) -> dict:
    stations = _runnable_stations() if reception is None else []
    return {
        "station": station,
        "reception": reception,
        "stations": stations,
        "deputies": station.deputies if station is not None else [],
        "kind_options": [(kind.value, kind.label) for kind in ReceptionKind],
        **extra,
    }


def _chosen(station: Station) -> Station:
    require(can_run_receptions(me(), station), "只能为您负责的家站点安排接待活动。")
    return station


@roles(RUNNERS)
def new():
    if request.method == "GET":
        station_id = arg_id("station")
        station = _chosen(visible_or_404(Station, station_id)) if station_id is not None else None
        stations = _runnable_stations()
        if station is None and len(stations) == 1:
            station = _chosen(stations[0])
        return render_template(FORM_TEMPLATE, form=_new_form(station), chosen=[], **_form_context(station))

    data = form_data()
    deputy_ids = request.form.getlist("deputy_ids")
    try:
        station = pick(Station, data.get("station_id"), "station_id", "家站点")
    except ValidationFailed as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=deputy_ids, **_form_context(None))
    _chosen(station)
    try:
        reception = create_reception(
            station, data, deputy_ids=deputy_ids, announce=request.form.get("action") == "announce"
        )
    except DomainError as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=deputy_ids, **_form_context(station))
    db.session.commit()
    done = "已公告" if reception.status == ReceptionStatus.ANNOUNCED else "已保存为草稿"
    flash(f"接待活动{done}：{reception.date:%Y-%m-%d} {reception.topic}", "success")
    _warn_if_late(reception)
    return redirect(url_for("console.reception_detail", reception_id=reception.id))


def _detail_context(reception: Reception, **extra: Any) -> dict[str, Any]:
    user = me()
    manage = can_run_receptions(user, reception.station)
    now = local_now()
    usage = slot_usage(reception)
    slots = [
        {
            "start": slot,
            "booked": usage[slot],
            "capacity": reception.slot_capacity,
            "free": max(0, reception.slot_capacity - usage[slot]),
            "open": datetime.combine(reception.date, slot) > now,
        }
        for slot in sorted(usage)
    ]
    context = {
        "reception": reception,
        "slots": slots,
        "bookings": bookings_for(reception) if manage else [],
        "can_manage": manage,
        "can_book": manage
        and reception.status == ReceptionStatus.ANNOUNCED
        and any(s["open"] for s in slots),
        "can_mark": manage and reception.status != ReceptionStatus.CANCELLED and now.date() >= reception.date,
        "ended": datetime.combine(reception.date, reception.end) <= now,
        "started": datetime.combine(reception.date, reception.start) <= now,
        # 台账: the activity this reception became (issue 8), if any.
        "ledger_activity": db.session.scalar(select(Activity).where(Activity.reception_id == reception.id)),
        "announced_local": to_local(reception.announced_at) if reception.announced_at else None,
        "today": now.date(),
        "booking_form": {},
    }
    context.update(extra)
    return context


@roles(VIEWERS)
def detail(reception_id: int):
    reception = _reception_or_404(reception_id)
    return render_template(DETAIL_TEMPLATE, **_detail_context(reception))


def _values(reception: Reception) -> dict[str, Any]:
    return {
        "station_id": reception.station_id,
        "kind": reception.kind,
        "date": reception.date.isoformat(),
        "start": f"{reception.start:%H:%M}",
        "end": f"{reception.end:%H:%M}",
        "topic": reception.topic,
        "slot_minutes": reception.slot_minutes,
        "slot_capacity": reception.slot_capacity,
    }


@roles(RUNNERS)
def edit(reception_id: int):
    reception = _managed(reception_id)
    context = _form_context(reception.station, reception)
    if request.method == "GET":
        chosen = [str(duty.deputy_id) for duty in reception.duties]
        return render_template(FORM_TEMPLATE, form=_values(reception), chosen=chosen, **context)
    data = form_data()
    deputy_ids = request.form.getlist("deputy_ids")
    try:
        update_reception(reception, data, deputy_ids=deputy_ids)
    except DomainError as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=deputy_ids, **context)
    db.session.commit()
    flash("接待活动已保存。", "success")
    return redirect(url_for("console.reception_detail", reception_id=reception.id))


def _act(reception_id: int, change: Callable[[], object], success: str):
    """Run one state change from a button on the detail page; errors come back as a flash."""
    back = redirect(url_for("console.reception_detail", reception_id=reception_id))
    try:
        change()
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        db.session.rollback()
        flash(exc.message, "error")
        return back
    db.session.commit()
    flash(success, "success")
    return back


@roles(RUNNERS)
def announce(reception_id: int):
    reception = _managed(reception_id)
    answer = _act(reception_id, lambda: announce_reception(reception), "接待活动已公告，群众可以查看和预约。")
    _warn_if_late(reception)
    return answer


def _warn_if_late(reception: Reception) -> None:
    from app.notify.fanout import late_announcement_warning

    warning = late_announcement_warning(reception)
    if warning:
        flash(warning, "error")


@roles(RUNNERS)
def cancel(reception_id: int):
    reception = _managed(reception_id)
    reason = request.form.get("reason", "")
    return _act(
        reception_id,
        lambda: cancel_reception(reception, reason),
        "接待活动已取消；已有的预约仍列在下方，请及时告知预约群众。",
    )


@roles(RUNNERS)
def confirm(reception_id: int):
    reception = _managed(reception_id)
    day = request.form.get("date", "")
    return _act(reception_id, lambda: confirm_moved_day(reception, day), "日期已确认，接待活动已公告。")


@roles(GENERATORS)
def generate():
    user = me()
    month = request.form.get("month", "").strip()
    try:
        report = generate_service_days(
            month,
            ServiceDayDefaults.from_config(current_app.config),
            within=visible(Station, user),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.receptions"))
    db.session.commit()
    parts = [
        f"{report.month} 代表联系服务群众日：新建 {len(report.created)} 场，已存在 {report.existing} 场。"
    ]
    if report.moved:
        parts.append(
            f"{len(report.moved)} 场因节假日顺延，暂未公告，请逐场确认。{report.moved[0].schedule_note}"
        )
    if report.without_deputies:
        names = "、".join(s.name for s in report.without_deputies[:5])
        more = "等" if len(report.without_deputies) > 5 else ""
        parts.append(f"{len(report.without_deputies)} 个家站点尚无编入代表，无法安排值班：{names}{more}。")
    flash(" ".join(parts), "info" if report.moved or report.without_deputies else "success")
    return redirect(url_for("console.receptions", month=report.month))


# --- bookings ----------------------------------------------------------------------------------


def _booking_of(reception: Reception, booking_id: int) -> Booking:
    booking = visible_or_404(Booking, booking_id)
    if booking.reception_id != reception.id:
        raise NotFound()
    return booking


@roles(RUNNERS)
def book(reception_id: int):
    reception = _managed(reception_id)
    data = form_data()
    try:
        booking = book_for_resident(
            reception,
            slot=data.get("slot_start"),
            name=data.get("name"),
            mobile=data.get("mobile"),
            topic=data.get("topic", ""),
            staff_user_id=me().id,
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        message = exc.message
        if isinstance(exc, SlotFull):
            message = "该时段已约满，请为群众选择其他时段。"
        elif isinstance(exc, AlreadyBooked):
            message = f"该手机号已预约本场（预约码 {exc.booking.code}），如需改约请先取消原预约。"
        db.session.rollback()
        context = _detail_context(_reception_or_404(reception_id), booking_form=data)
        return render_template(DETAIL_TEMPLATE, error=message, error_field=exc.field, **context), exc.status
    db.session.commit()
    flash(f"已为{booking.name}预约 {booking.slot_start:%H:%M} 时段，预约码 {booking.code}。", "success")
    return redirect(url_for("console.reception_detail", reception_id=reception_id))


@roles(RUNNERS)
def attendance(reception_id: int, booking_id: int):
    reception = _managed(reception_id)
    booking = _booking_of(reception, booking_id)
    attended = request.form.get("attended") == "1"
    label = BookingStatus.ATTENDED.label if attended else BookingStatus.NO_SHOW.label
    return _act(
        reception_id, lambda: record_attendance(booking, attended), f"已登记{booking.name}：{label}。"
    )


@roles(RUNNERS)
def cancel_booking_view(reception_id: int, booking_id: int):
    reception = _managed(reception_id)
    booking = _booking_of(reception, booking_id)
    return _act(reception_id, lambda: cancel_booking(booking), f"已为{booking.name}取消预约。")

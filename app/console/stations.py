"""家站点: stations in the user's scope, their public information and the deputies placed there."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import exists, or_

from app.auth.models import Role, StaffUser
from app.auth.scope import region_ids_under, scoped_select
from app.auth.service import can_edit_station_info, can_manage_station, require
from app.console.access import (
    ADMINS,
    STATION_VIEWERS,
    arg_id,
    form_data,
    invalid,
    me,
    paginate,
    pick,
    region_options,
    roles,
    search_term,
    visible_or_404,
)
from app.deputies.models import Deputy
from app.errors import DomainError
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Placement, Station, StationKind, StationStatus
from app.stations.service import (
    PUBLIC_INFO_FIELDS,
    create_station,
    place_deputy,
    unplace_deputy,
    update_station,
)

VIEWERS = STATION_VIEWERS
EDITORS = ADMINS | {Role.STATION_STAFF}
PICKER_LIMIT = 200
FORM_FIELDS = (
    "name",
    "address",
    "phone",
    "intro",
    "opening_hours",
    "area_m2",
    "lat",
    "lng",
    "status",
    "approval_authority",
    "approval_no",
)


@roles(VIEWERS)
def index():
    user = me()
    q = search_term()
    where: list[Any] = []
    if q:
        where.append(
            or_(
                Station.name.contains(q, autoescape=True),
                Station.code.contains(q, autoescape=True),
                Station.address.contains(q, autoescape=True),
            )
        )
    kind = request.args.get("kind", "")
    if kind in StationKind.__members__.values():
        where.append(Station.kind == kind)
    status = request.args.get("status", "")
    if status in StationStatus.__members__.values():
        where.append(Station.status == status)
    region_id = arg_id("region")
    if region_id is not None:
        region = db.session.scalar(scoped_select(Region, user, Region.id == region_id))
        if region is not None:
            where.append(Station.region_id.in_(region_ids_under(region.path)))
    page = paginate(scoped_select(Station, user, *where).order_by(Station.region_id, Station.name))
    return render_template(
        "console/stations/list.html",
        page=page,
        q=q,
        kind=kind,
        status=status,
        region_id=region_id,
        regions=region_options(),
        kinds=list(StationKind),
        statuses=list(StationStatus),
        is_admin=user.role_enum in ADMINS,
    )


def _host_options(current: Deputy | None = None) -> list[Deputy]:
    deputies = list(db.session.scalars(scoped_select(Deputy, me()).order_by(Deputy.name).limit(1000)))
    if current is not None and current not in deputies:
        deputies.insert(0, current)  # keep the recorded host selectable even when kept elsewhere
    return deputies


def _checked_host(data: dict, station: Station | None) -> None:
    """The host deputy must be one the user may see (or the one already recorded)."""
    raw = str(data.get("host_deputy_id") or "").strip()
    if raw and not (station is not None and raw == str(station.host_deputy_id)):
        pick(Deputy, raw, "host_deputy_id", "所在单位的代表")


def _form_context(station: Station | None = None) -> dict[str, Any]:
    return {
        "station": station,
        "regions": region_options(),
        "kinds": list(StationKind),
        "statuses": list(StationStatus),
        "hosts": _host_options(station.host_deputy if station else None),
    }


def _values(station: Station) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(station, name) for name in FORM_FIELDS}
    values.update(
        {
            "at_workplace": station.at_workplace,
            "approval_date": station.approval_date.isoformat() if station.approval_date else "",
            "host_deputy_id": station.host_deputy_id or "",
        }
    )
    return {k: ("" if v is None else v) for k, v in values.items()}


def _can_open_station_in(region: Region) -> bool:
    user = me()
    return user.role_enum in ADMINS and region.is_within(user.region)


@roles(ADMINS)
def new():
    template = "console/stations/form.html"
    if request.method == "GET":
        region_id = request.args.get("region", "")
        form = {"status": StationStatus.ACTIVE, "region_id": region_id, "kind": request.args.get("kind", "")}
        return render_template(template, form=form, **_form_context())
    data = form_data("at_workplace")
    try:
        region = pick(Region, data.get("region_id"), "region_id", "所属区域")
        require(_can_open_station_in(region), "只能在您管辖的区域内设立家站点。")
        _checked_host(data, None)
        station = create_station(region=region, kind=data.get("kind", ""), data=data)
    except DomainError as exc:
        return invalid(exc, template, form=data, **_form_context())
    db.session.commit()
    flash(f"已新建{station.kind_label}：{station.name}（编码 {station.code}）", "success")
    return redirect(url_for("console.station_detail", station_id=station.id))


@roles(VIEWERS)
def detail(station_id: int):
    user = me()
    station = visible_or_404(Station, station_id)
    placed_here = exists().where(Placement.deputy_id == Deputy.id, Placement.station_id == station.id)
    deputies = list(db.session.scalars(scoped_select(Deputy, user, placed_here).order_by(Deputy.name)))
    staff = list(
        db.session.scalars(
            scoped_select(StaffUser, user, StaffUser.station_id == station.id).order_by(StaffUser.id)
        )
    )
    manage = can_manage_station(user, station)
    candidates: list[Deputy] = []
    dq = request.args.get("dq", "").strip()[:32]
    if manage:
        where = [~placed_here]
        if dq:
            where.append(Deputy.name.contains(dq, autoescape=True))
        candidates = list(
            db.session.scalars(scoped_select(Deputy, user, *where).order_by(Deputy.name).limit(PICKER_LIMIT))
        )
    return render_template(
        "console/stations/detail.html",
        station=station,
        deputies=deputies,
        staff=staff,
        candidates=candidates,
        dq=dq,
        picker_limit=PICKER_LIMIT,
        can_manage=manage,
        can_edit=can_edit_station_info(user, station),
        is_admin=user.role_enum in ADMINS,
    )


@roles(EDITORS)
def edit(station_id: int):
    user = me()
    station = visible_or_404(Station, station_id)
    require(can_edit_station_info(user, station))
    public_only = not can_manage_station(user, station)
    template = "console/stations/form.html"
    context = _form_context(station)
    context.update(public_only=public_only, public_fields=PUBLIC_INFO_FIELDS)
    if request.method == "GET":
        return render_template(template, form=_values(station), **context)
    data = form_data("at_workplace")
    try:
        if not public_only:
            _checked_host(data, station)
        update_station(station, data, public_info_only=public_only)
    except DomainError as exc:
        return invalid(exc, template, form=data, **context)
    db.session.commit()
    flash("站点信息已保存。", "success")
    return redirect(url_for("console.station_detail", station_id=station.id))


@roles(ADMINS)
def place(station_id: int):
    station = visible_or_404(Station, station_id)
    require(can_manage_station(me(), station))
    try:
        deputy = pick(Deputy, request.form.get("deputy_id"), "deputy_id", "要编入的代表")
        place_deputy(station, deputy)
    except DomainError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.station_detail", station_id=station_id))
    db.session.commit()
    flash(f"已将{deputy.name}编入本站。", "success")
    return redirect(url_for("console.station_detail", station_id=station_id))


@roles(ADMINS)
def unplace(station_id: int, deputy_id: int):
    station = visible_or_404(Station, station_id)
    require(can_manage_station(me(), station))
    deputy = visible_or_404(Deputy, deputy_id)
    name = deputy.name
    try:
        unplace_deputy(station, deputy)
    except DomainError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.station_detail", station_id=station_id))
    db.session.commit()
    flash(f"已将{name}移出本站。", "success")
    return redirect(url_for("console.station_detail", station_id=station_id))

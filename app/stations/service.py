"""Rules for stations: kinds and levels, 联系点 approval, placements."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select

from app.deputies.models import Deputy
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.regions.models import Region, RegionLevel
from app.stations.models import Placement, Station, StationKind, StationStatus
from app.validation import clean_coordinate, clean_int, clean_phone, clean_text

# No 0/o, 1/l/i: the code is also read aloud and typed from the plaque.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 6

# 三(一)1: 之家 at 市/市(县)区/镇(街道、园区); 联络站 at 行政村/社区; 联系点 anywhere.
KIND_LEVELS = {
    StationKind.HOME: {RegionLevel.CITY, RegionLevel.DISTRICT, RegionLevel.TOWN},
    StationKind.STATION: {RegionLevel.VILLAGE},
    StationKind.POINT: set(RegionLevel),
}

# Fields station staff may change on their own station; the rest is the admins'.
PUBLIC_INFO_FIELDS = ("phone", "intro", "opening_hours", "address", "area_m2")


def new_station_code(seed: str | None = None) -> str:
    """A short public code; deterministic when seeded (demo data), random otherwise."""
    if seed is None:
        return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        digest, i = divmod(digest, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[i])
    return "".join(chars)


def get_station_by_code(code: str) -> Station:
    """The station with this public code, or ``NotFound``."""
    station = db.session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise NotFound("未找到该家站点。")
    return station


def _unique_code(seed: str | None) -> str:
    code = new_station_code(seed)
    attempt = 0
    while db.session.scalar(select(Station.id).where(Station.code == code)) is not None:
        attempt += 1
        code = new_station_code(f"{seed}#{attempt}" if seed else None)
    return code


def _parse_date(value: object, field: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 YYYY-MM-DD。", field=field) from None


def _check_name_free_of_deputies(name: str, deputies: list[Deputy]) -> None:
    for deputy in deputies:
        if deputy.name and deputy.name in name:
            raise ValidationFailed(
                f"设在代表工作单位的联系点不得以代表个人名义冠名（名称中含“{deputy.name}”）。",
                field="name",
            )


def _validate_point_rules(station: Station) -> None:
    """A 联系点 at a deputy's workplace: approval on record, never the deputy's name."""
    if station.kind != StationKind.POINT or not station.at_workplace:
        return
    missing = [
        label
        for value, label in (
            (station.approval_authority, "批准机关"),
            (station.approval_no, "批准文号"),
            (station.approval_date, "批准日期"),
        )
        if not value
    ]
    if missing:
        raise ValidationFailed(
            "设在代表工作单位的联系点须经相应层级人大常委会批准，请填写" + "、".join(missing) + "。",
            field="approval_no",
        )
    deputies = [p.deputy for p in station.placements]
    if station.host_deputy is not None:
        deputies.append(station.host_deputy)
    _check_name_free_of_deputies(station.name, deputies)


def _apply(station: Station, data: Mapping[str, object], fields: tuple[str, ...]) -> None:
    if "name" in fields:
        station.name = clean_text(data.get("name"), "name", "站点名称", max_len=100)
    if "address" in fields:
        station.address = clean_text(data.get("address"), "address", "地址", max_len=200)
    if "phone" in fields:
        station.phone = clean_phone(data.get("phone"), "phone", "联系电话")
    if "intro" in fields:
        station.intro = clean_text(data.get("intro"), "intro", "简介", max_len=4000, required=False)
    if "opening_hours" in fields:
        station.opening_hours = clean_text(
            data.get("opening_hours"), "opening_hours", "开放时间", max_len=100, required=False
        )
    if "area_m2" in fields:
        station.area_m2 = clean_int(data.get("area_m2"), "area_m2", "面积", lo=1, hi=100000)
    if "lat" in fields:
        station.lat = clean_coordinate(data.get("lat"), "lat", "纬度", lo=-90, hi=90)
    if "lng" in fields:
        station.lng = clean_coordinate(data.get("lng"), "lng", "经度", lo=-180, hi=180)
    if "status" in fields:
        status = str(data.get("status") or StationStatus.ACTIVE)
        if status not in StationStatus.__members__.values():
            raise ValidationFailed("站点状态无效。", field="status")
        station.status = status
    if "at_workplace" in fields:
        station.at_workplace = bool(data.get("at_workplace"))
        station.approval_authority = clean_text(
            data.get("approval_authority"), "approval_authority", "批准机关", max_len=100, required=False
        )
        station.approval_no = clean_text(
            data.get("approval_no"), "approval_no", "批准文号", max_len=64, required=False
        )
        station.approval_date = _parse_date(data.get("approval_date"), "approval_date", "批准日期")
        host_id = data.get("host_deputy_id")
        station.host_deputy = db.session.get(Deputy, int(host_id)) if host_id not in (None, "") else None
        if host_id not in (None, "") and station.host_deputy is None:
            raise ValidationFailed("所选代表不存在。", field="host_deputy_id")


ADMIN_FIELDS = (
    "name",
    "address",
    "phone",
    "intro",
    "opening_hours",
    "area_m2",
    "lat",
    "lng",
    "status",
    "at_workplace",
)


def create_station(
    *, region: Region, kind: str, data: Mapping[str, object], code_seed: str | None = None
) -> Station:
    """Open a station of ``kind`` in ``region``, checking the seed's rules for its kind."""
    try:
        kind_enum = StationKind(kind)
    except ValueError:
        raise ValidationFailed("站点类型无效。", field="kind") from None
    if region.level_enum not in KIND_LEVELS[kind_enum]:
        allowed = "、".join(level.label for level in RegionLevel if level in KIND_LEVELS[kind_enum])
        raise ValidationFailed(f"{kind_enum.label}只能设在{allowed}一级。", field="region")
    station = Station(kind=kind_enum, level=region.level, region=region, code=_unique_code(code_seed))
    _apply(station, data, ADMIN_FIELDS)
    if kind_enum != StationKind.POINT:
        station.at_workplace = False
    _validate_point_rules(station)
    db.session.add(station)
    db.session.flush()
    return station


def update_station(
    station: Station, data: Mapping[str, object], *, public_info_only: bool = False
) -> Station:
    """Change a station; station staff may only touch its public information."""
    _apply(station, data, PUBLIC_INFO_FIELDS if public_info_only else ADMIN_FIELDS)
    if station.kind != StationKind.POINT:
        station.at_workplace = False
    _validate_point_rules(station)
    db.session.flush()
    return station


def place_deputy(station: Station, deputy: Deputy, since: date | None = None) -> Placement:
    """编入: put a deputy on a station's roll (a deputy may be on several)."""
    if db.session.scalar(
        select(Placement).where(Placement.station_id == station.id, Placement.deputy_id == deputy.id)
    ):
        raise Conflict(f"{deputy.name}已编入{station.name}。")
    if station.kind == StationKind.POINT and station.at_workplace:
        _check_name_free_of_deputies(station.name, [deputy])
    placement = Placement(station=station, deputy=deputy, since=since)
    db.session.add(placement)
    db.session.flush()
    return placement


def unplace_deputy(station: Station, deputy: Deputy) -> None:
    """Take a deputy off a station's roll."""
    placement = db.session.scalar(
        select(Placement).where(Placement.station_id == station.id, Placement.deputy_id == deputy.id)
    )
    if placement is None:
        raise NotFound(f"{deputy.name}未编入{station.name}。")
    db.session.delete(placement)
    db.session.flush()
    # Neither side may keep the deleted placement in an already loaded collection.
    db.session.expire(station, ["placements"])
    db.session.expire(deputy, ["placements"])


def check_points_named_after(deputy: Deputy) -> None:
    """Re-check the naming rule of every workplace 联系点 the deputy hosts or is placed at."""
    stations = db.session.scalars(
        select(Station).where(
            Station.kind == StationKind.POINT,
            Station.at_workplace.is_(True),
            (Station.host_deputy_id == deputy.id)
            | Station.id.in_(select(Placement.station_id).where(Placement.deputy_id == deputy.id)),
        )
    )
    for station in stations:
        _validate_point_rules(station)

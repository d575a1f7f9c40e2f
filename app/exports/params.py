"""The export parameters every kind shares: a year, a day, a region or station by its code."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Station


def parse_year(params: dict) -> int:
    """The ``year`` parameter (2000–2100), or a 422 asking for it."""
    text = str(params.get("year") or "").strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise ValidationFailed("请填写年度，如 2026。")
    return int(text)


def parse_day(raw: object, label: str) -> date | None:
    """An optional ISO date (年-月-日); empty is ``None``, anything else a 422 naming ``label``."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 年-月-日。") from None


def region_by_code(code: str, *, field: str | None = None) -> Region:
    """The region with this code, or a 422 saying there is none (scope is the caller's to check)."""
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise ValidationFailed(f"没有代码为 {code} 的区域。", field=field)
    return region


def station_by_code(code: str) -> Station:
    """The station with this code, or a 422 saying there is none (scope is the caller's to check)."""
    station = db.session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise ValidationFailed(f"没有代码为 {code} 的家站点。")
    return station

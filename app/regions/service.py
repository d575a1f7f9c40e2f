"""Rules of the region tree."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.regions.models import Region, RegionLevel
from app.validation import clean_text

CODE_RE = re.compile(r"^[0-9A-Za-z]{2,32}$")


def get_region_by_code(code: str) -> Region:
    """The region with this code, or ``NotFound``."""
    region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound("未找到该区域。")
    return region


def create_region(*, code: str, name: str, parent: Region | None) -> Region:
    """Add a region one level below ``parent`` (the city itself has none)."""
    code = clean_text(code, "code", "区域代码", max_len=32)
    if not CODE_RE.match(code):
        raise ValidationFailed("区域代码只能由字母和数字组成（2-32 位）。", field="code")
    name = clean_text(name, "name", "区域名称", max_len=64)
    if parent is None:
        level = RegionLevel.CITY
        path = f"/{code}/"
    else:
        child_level = parent.level_enum.child()
        if child_level is None:
            raise ValidationFailed("村/社区下不能再设下级区域。", field="parent")
        level = child_level
        path = f"{parent.path}{code}/"
    if db.session.scalar(select(Region.id).where(Region.code == code)) is not None:
        raise Conflict(f"区域代码 {code} 已存在。", field="code")
    region = Region(code=code, name=name, level=level, parent=parent, path=path)
    db.session.add(region)
    db.session.flush()
    return region


def rename_region(region: Region, name: str) -> Region:
    """Change a region's display name; its code and place in the tree are permanent."""
    region.name = clean_text(name, "name", "区域名称", max_len=64)
    db.session.flush()
    return region


def delete_region(region: Region) -> None:
    """Remove an empty region; one with children, stations, deputies or users stays."""
    from app.auth.models import StaffUser
    from app.deputies.models import Deputy
    from app.stations.models import Station
    from app.units.models import HandlingUnit

    for model, what in (
        (Region, "下级区域"),
        (Station, "家站点"),
        (Deputy, "代表"),
        (HandlingUnit, "承办单位"),
        (StaffUser, "工作人员账号"),
    ):
        column = model.parent_id if model is Region else model.region_id
        if db.session.scalar(select(func.count()).where(column == region.id)):
            raise Conflict(f"该区域下还有{what}，不能删除。")
    db.session.delete(region)
    db.session.flush()


def subtree(root: Region) -> list[Region]:
    """The region and all below it, in tree order."""
    return list(
        db.session.scalars(
            select(Region).where(Region.path.startswith(root.path, autoescape=True)).order_by(Region.path)
        )
    )

"""Read-only queries over public station data: one implementation for the H5 pages and the API.

Only what a resident may see: active stations, and the active deputies placed there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from app.deputies.models import Deputy
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
from app.regions.models import Region, RegionLevel
from app.stations.models import Placement, Station, StationKind, StationStatus

# Station codes come from app.stations.service.CODE_ALPHABET; anything else is not a code,
# and is refused before it reaches the database (PostgreSQL rejects NUL bytes in text).
STATION_CODE_RE = re.compile(r"^[0-9A-Za-z]{1,16}$")
REGION_CODE_RE = re.compile(r"^[0-9A-Za-z]{1,32}$")
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_QUERY_LEN = 50
STATION_KINDS = tuple(kind.value for kind in StationKind)


@dataclass(frozen=True)
class StationPage:
    """One page of a station search."""

    items: list[Station]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _clean_query(q: str | None) -> str | None:
    text = (q or "").strip()
    if not text:
        return None
    if len(text) > MAX_QUERY_LEN:
        raise ValidationFailed(f"搜索词不能超过 {MAX_QUERY_LEN} 个字。", field="q")
    if any(ord(ch) < 32 for ch in text):
        raise ValidationFailed("搜索词包含无效字符。", field="q")
    return text


def _region_by_code(code: str) -> Region:
    region = None
    if REGION_CODE_RE.match(code):
        region = db.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise ValidationFailed(f"未找到区域代码“{code[:32]}”。", field="region")
    return region


def search_stations(
    *,
    region_code: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> StationPage:
    """Active stations in a region's subtree, of a kind, whose name contains ``q``; one page.

    Ordered by region path, then name and id, so every page of a listing is stable.
    """
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(f"页码应在 1 到 {MAX_PAGE} 之间。", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationFailed(f"每页条数应在 1 到 {MAX_PER_PAGE} 之间。", field="per_page")
    where = [Station.status == StationStatus.ACTIVE]
    if region_code:
        region = _region_by_code(region_code)
        where.append(Region.path.startswith(region.path, autoescape=True))
    if kind:
        if kind not in STATION_KINDS:
            raise ValidationFailed(
                "站点类型应为 home（之家）、station（联络站）或 point（联系点）。", field="kind"
            )
        where.append(Station.kind == kind)
    text = _clean_query(q)
    if text:
        where.append(Station.name.icontains(text, autoescape=True))

    total = db.session.scalar(
        select(func.count(Station.id)).select_from(Station).join(Station.region).where(*where)
    )
    items = db.session.scalars(
        select(Station)
        .join(Station.region)
        .options(contains_eager(Station.region))
        .where(*where)
        .order_by(Region.path, Station.name, Station.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return StationPage(items=list(items), total=total or 0, page=page, per_page=per_page)


def get_public_station(code: str) -> Station:
    """The active station with this public code, its deputies loaded; ``NotFound`` otherwise."""
    station = None
    if STATION_CODE_RE.match(code or ""):
        station = db.session.scalar(
            select(Station)
            .where(Station.code == code)
            .options(
                selectinload(Station.region),
                selectinload(Station.placements).selectinload(Placement.deputy).selectinload(Deputy.mandates),
            )
        )
    if station is None or station.status == StationStatus.CLOSED:
        raise NotFound("未找到该家站点，它可能已撤销或二维码有误。")
    if station.status != StationStatus.ACTIVE:
        raise NotFound(f"{station.name}暂停开放，请联系所在镇（街道）人大或查看附近的其他家站点。")
    return station


def public_deputies(station: Station) -> list[Deputy]:
    """The deputies on a station's wall: those placed there and still serving, higher levels first."""
    return [deputy for deputy in station.deputies if deputy.active]


def region_ancestry(region: Region) -> list[Region]:
    """The region and its parents, city first (for a station's "where")."""
    chain = []
    node: Region | None = region
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def region_choices() -> list[tuple[Region, list[Region]]]:
    """Districts, each with its towns/streets: the region filter of the station list."""
    regions = db.session.scalars(
        select(Region).where(Region.level.in_([RegionLevel.DISTRICT, RegionLevel.TOWN])).order_by(Region.path)
    ).all()
    groups: list[tuple[Region, list[Region]]] = []
    for region in regions:
        if region.level == RegionLevel.DISTRICT:
            groups.append((region, []))
        elif groups and region.path.startswith(groups[-1][0].path):
            groups[-1][1].append(region)
    return groups


def announced_receptions(station: Station, first: date, last: date) -> list[Reception]:
    """A station's announced receptions from ``first`` to ``last`` (inclusive), in time order."""
    return list(
        db.session.scalars(
            select(Reception)
            .where(
                Reception.station_id == station.id,
                Reception.status == ReceptionStatus.ANNOUNCED,
                Reception.date >= first,
                Reception.date <= last,
            )
            .options(selectinload(Reception.duties).selectinload(ReceptionDuty.deputy))
            .order_by(Reception.date, Reception.start, Reception.id)
        )
    )


def public_reception(reception_id: int) -> Reception:
    """An announced reception at an active station, by id; ``NotFound`` for drafts, cancelled and the rest."""
    reception = db.session.get(Reception, reception_id)
    if (
        reception is None
        or reception.status != ReceptionStatus.ANNOUNCED
        or reception.station.status != StationStatus.ACTIVE
    ):
        raise NotFound("该接待活动不存在或已取消，请重新选择。")
    return reception

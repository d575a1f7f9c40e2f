"""The dashboards' data: filters from a request, KPI cards, trend, categories, the region table.

Every figure comes from ``app.analytics.kpi`` (opinions), ``app.analytics.work`` (receptions)
or ``app.analytics.words``; this module only picks, groups and labels them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.analytics.kpi import (
    KPIS,
    Counters,
    Filters,
    figures,
    month_start,
    months_between,
    next_month,
)
from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import Scope, get_visible, scope_of, visible
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.opinions.models import Category
from app.regions.models import Region
from app.stations.models import Station
from app.units.models import HandlingUnit

ANALYSTS = frozenset(ADMIN_ROLES) | {Role.STATION_STAFF}
OVERVIEW_KPIS = (
    "received",
    "accepted",
    "closed",
    "overdue",
    "on_time_accept_rate",
    "on_time_close_rate",
    "feedback_rate",
    "satisfaction_rate",
    "avg_close_days",
    "p90_close_days",
)
RANGE_MAX_DAYS = 366 * 5
UNCLASSIFIED = "未分类"


def default_period(today: date) -> tuple[date, date]:
    """The twelve months up to ``today``, its own month included."""
    first = month_start(today)
    for _ in range(11):
        first = month_start(first - timedelta(days=1))
    return first, today


def month_period(month: date) -> tuple[date, date]:
    return month, next_month(month) - timedelta(days=1)


@dataclass
class Request:
    """Filters of a dashboard page as the user asked for them, with what was wrong."""

    filters: Filters
    problems: list[str] = field(default_factory=list)

    def args(self, **changes) -> dict:
        """Query arguments that reproduce these filters (for links), with changes."""
        f = self.filters
        out = {
            "from": f.date_from.isoformat(),
            "to": f.date_to.isoformat(),
            "region": f.region.id if f.region else None,
            "station": f.station.id if f.station else None,
            "category": f.category,
            "unit": f.unit.id if f.unit else None,
        }
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, "")}


def _date(raw: object, label: str, problems: list[str]) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}格式应为 年-月-日，已忽略。")
        return None


def _id(raw: object) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise NotFound()
    return int(text)


def parse_request(args: Mapping[str, object], user: StaffUser, today: date) -> Request:
    """Console filters: from/to (dates), region and station (ids in the user's scope, else 404)."""
    problems: list[str] = []
    date_to = _date(args.get("to"), "结束日期", problems) or today
    # Without a start: the twelve months up to the end.
    date_from = _date(args.get("from"), "开始日期", problems) or default_period(date_to)[0]
    if date_from > date_to:
        problems.append("开始日期晚于结束日期，已对调。")
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days > RANGE_MAX_DAYS:
        problems.append("统计期最长五年，已从结束日期往前截取。")
        date_from = date_to - timedelta(days=RANGE_MAX_DAYS)
    region_id, station_id = _id(args.get("region")), _id(args.get("station"))
    region = get_visible(Region, region_id, user) if region_id is not None else None
    station = get_visible(Station, station_id, user) if station_id is not None else None
    category = str(args.get("category") or "").strip()[:32] or None
    unit_id = _id(args.get("unit"))
    unit = get_visible(HandlingUnit, unit_id, user) if unit_id is not None else None
    return Request(Filters(date_from, date_to, region, station, category, unit), problems)


def resolve_api_filters(user: StaffUser, args: dict, today: date) -> Filters:
    """Staff API filters: from/to dates, region and station by code; outside the scope → 404."""
    date_to = args.get("date_to") or today
    date_from = args.get("date_from") or default_period(date_to)[0]
    if date_from > date_to:
        raise ValidationFailed("开始日期不能晚于结束日期。", code="invalid_period", field="from")
    if (date_to - date_from).days > RANGE_MAX_DAYS:
        raise ValidationFailed("统计期最长五年。", code="invalid_period", field="from")
    region = station = None
    if args.get("region"):
        region = db.session.scalar(select(Region).where(Region.code == args["region"], visible(Region, user)))
        if region is None:
            raise NotFound("没有这个区域，或不在您的管辖范围内。")
    if args.get("station"):
        station = db.session.scalar(
            select(Station).where(Station.code == args["station"], visible(Station, user))
        )
        if station is None:
            raise NotFound("没有这个家站点，或不在您的管辖范围内。")
    return Filters(date_from, date_to, region, station)


def category_names() -> dict[str, str]:
    names = {c.code: c.name for c in db.session.scalars(select(Category))}
    names[""] = UNCLASSIFIED
    return names


# --- the overview ---------------------------------------------------------------------------


@dataclass
class TableRow:
    label: str
    region: Region | None
    station: Station | None
    counters: Counters
    spark: list[int]


def base_region(user: StaffUser, f: Filters) -> Region | None:
    if f.region is not None:
        return f.region
    return user.region if user.role_enum in ADMIN_ROLES else None


def table_rows(user: StaffUser, f: Filters, months: int) -> tuple[list[TableRow], dict[int, list[int]]]:
    """The region table's rows (child regions of the region looked at, or stations at the
    bottom) and which stations each row sums, keyed by the row's index."""
    scope = scope_of(user)
    where = [visible(Station, scope)] + ([Station.id == f.station.id] if f.station else [])
    stations = db.session.execute(
        select(Station.id, Station.name, Region.path).join(Region).where(*where).order_by(Station.id)
    ).all()
    base = base_region(user, f) if f.station is None else None
    children: list[Region] = []
    if base is not None:
        children = list(
            db.session.scalars(select(Region).where(Region.parent_id == base.id).order_by(Region.code))
        )
    rows: list[TableRow] = []
    index: dict[object, int] = {}
    members: dict[int, list[int]] = {}
    for station_id, name, path in stations:
        if base is not None and not path.startswith(base.path):
            continue
        child = next((c for c in children if path.startswith(c.path)), None)
        key: object = ("r", child.id) if child is not None else ("s", station_id)
        if key not in index:
            index[key] = len(rows)
            if child is not None:
                rows.append(TableRow(child.name, child, None, Counters(), [0] * months))
            else:
                station = SimpleNamespace(id=station_id, name=name)
                rows.append(TableRow(name, None, station, Counters(), [0] * months))
        members.setdefault(index[key], []).append(station_id)
    return rows, members


def region_grouping(user: StaffUser, f: Filters, today: date) -> tuple[list[TableRow], dict[tuple, Counters]]:
    """The region table's (empty) rows and its figures per row and month, as SQL adds the
    stations up (``figures`` with ``station_groups``); the overview's trend adds up the same."""
    rows, members = table_rows(user, f, len(months_between(f.date_from, f.date_to)))
    grouped = figures(
        scope_of(user), f, today, ("station", "month"), close_days=False, station_groups=members
    )
    return rows, grouped


def region_table(
    user: StaffUser,
    f: Filters,
    today: date,
    grouping: tuple[list[TableRow], dict[tuple, Counters]] | None = None,
) -> tuple[list[date], list[TableRow]]:
    """One row per child region of the region looked at (or per station at the bottom), each
    with its counters and received per month (the sparkline), from ``region_grouping`` (made
    here unless the caller has it already); here the figures are only placed."""
    months = months_between(f.date_from, f.date_to)
    rows, grouped = grouping if grouping is not None else region_grouping(user, f, today)
    position = {m: i for i, m in enumerate(months)}
    for (row_index, month), counters in grouped.items():
        if row_index is None or row_index == "":
            continue
        row = rows[int(row_index)]
        row.counters.add(counters)
        if month in position:
            row.spark[position[month]] += counters.received
    ordered = sorted(rows, key=lambda r: (-r.counters.received, r.label))
    return months, ordered


def trend(scope: Scope, f: Filters, today: date, grouped: dict | None = None) -> dict:
    """Received, accepted and closed per month of the period (a chart's data); from the
    region table's row × month figures when the caller has them already."""
    if grouped is None:
        by_month = figures(scope, f, today, ("month",), close_days=False)
    else:
        by_month: dict[tuple, Counters] = {}
        for (_row, month), counters in grouped.items():
            by_month.setdefault((month,), Counters()).add(counters)
    months = months_between(f.date_from, f.date_to)
    return {
        "months": months,
        "received": [by_month.get((m,), Counters()).received for m in months],
        "accepted": [by_month.get((m,), Counters()).accepted for m in months],
        "closed": [by_month.get((m,), Counters()).closed for m in months],
    }


def categories(scope: Scope, f: Filters, today: date) -> list[tuple[str, str, Counters]]:
    """(code, name, counters) per category, most received first."""
    names = category_names()
    by_cat = figures(scope, f, today, ("category",), close_days=False)
    rows = [(code, names.get(code, code), c) for (code,), c in by_cat.items() if c.received]
    rows.sort(key=lambda r: (-r[2].received, r[1]))
    return rows


def kpi_definitions() -> dict:
    return KPIS

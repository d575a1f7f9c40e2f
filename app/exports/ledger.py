"""The 台账 (activity ledger) of a station or a region for a period, as staff file it (三(二)4 履职登记)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.auth.scope import station_ids_under, visible
from app.errors import NotFound, ValidationFailed
from app.exports.params import region_by_code, station_by_code
from app.exports.xlsx import Column, SheetSource, WorkbookSource, keyset_rows
from app.extensions import db
from app.ledger.models import Activity, ActivityDeputy, ActivityStatus, Attendance
from app.regions.models import Region
from app.stations.models import Station
from app.timeutil import to_local

COLUMNS = (
    Column("活动时间", 17, "datetime"),
    Column("家站点", 26, "wrap"),
    Column("活动类型", 10),
    Column("活动方式", 8),
    Column("活动主题", 24, "wrap"),
    Column("活动内容", 40, "wrap"),
    Column("出席代表", 24, "wrap"),
    Column("缺席、请假代表", 18, "wrap"),
    Column("接待群众人次", 9, "int"),
    Column("收集意见建议（条）", 9, "int"),
    Column("推动解决问题数", 9, "int"),
    Column("提前预告", 17, "wrap"),
    Column("登记状态", 8),
)


def ledger_select(
    user: StaffUser | None,
    *,
    station: Station | None = None,
    region: Region | None = None,
    date_from: date,
    date_to: date,
    final_only: bool = True,
) -> Select:
    """Activities of a station or a region subtree in ``[date_from, date_to]``, within the user's scope."""
    stmt = select(Activity).where(
        Activity.started_at >= datetime.combine(date_from, time()),
        Activity.started_at < datetime.combine(date_to + timedelta(days=1), time()),
    )
    if user is not None:
        stmt = stmt.where(visible(Activity, user))
    if station is not None:
        stmt = stmt.where(Activity.station_id == station.id)
    if region is not None:
        stmt = stmt.where(Activity.station_id.in_(station_ids_under(region.path)))
    if final_only:
        stmt = stmt.where(Activity.status == ActivityStatus.FINAL)
    return stmt


def _names(rows: list[ActivityDeputy], attended: bool) -> str:
    return "、".join(
        d.deputy.name + ("" if attended or d.attendance == Attendance.ABSENT else "（请假）")
        for d in rows
        if (d.attendance == Attendance.ATTENDED) == attended
    )


def _row(a: Activity) -> list:
    announced = ""
    if a.announced_at is not None:
        announced = to_local(a.announced_at).strftime("%Y-%m-%d %H:%M") + (
            f"（{a.announce_channel}）" if a.announce_channel else ""
        )
    return [
        a.started_at,
        a.station.name,
        a.kind_label,
        a.mode_label,
        a.title,
        a.content,
        _names(a.deputies, True),
        _names(a.deputies, False),
        a.residents_received,
        len(a.opinions),
        a.problems_solved,
        announced,
        a.status_label,
    ]


def ledger_workbook(stmt: Select, title: str, batch_size: int = 500) -> WorkbookSource:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    stmt = stmt.options(
        selectinload(Activity.station),
        selectinload(Activity.deputies).selectinload(ActivityDeputy.deputy),
        selectinload(Activity.opinions),
    )

    batches = keyset_rows(stmt, Activity.id, _row, batch_size)
    sheet = SheetSource(title=title, name="台账", columns=COLUMNS, total=total, batches=batches)
    return WorkbookSource(filename=f"{title}.xlsx", sheets=[sheet])


def ledger_for(user: StaffUser | None, params: dict) -> WorkbookSource:
    """Parse the export's parameters (station/region by code or id, a year or a period) and build it."""
    station = region = None
    if params.get("station_code"):
        station = station_by_code(params["station_code"])
    elif str(params.get("station") or "").isdigit():
        station = db.session.get(Station, int(params["station"]))
    if params.get("region_code"):
        region = region_by_code(params["region_code"])
    elif str(params.get("region") or "").isdigit():
        region = db.session.get(Region, int(params["region"]))
    if user is not None:
        # An object outside the scope is not found, as everywhere in the console.
        if station is not None and not _visible(station, user):
            raise NotFound()
        if region is not None and not _visible(region, user):
            raise NotFound()
    date_from, date_to = _period(params)
    where = station.name if station else region.name if region else (user.scope_label if user else "全市")
    stmt = ledger_select(user, station=station, region=region, date_from=date_from, date_to=date_to)
    span = (
        f"{date_from.year}年度"
        if (date_from.month, date_from.day, date_to.month, date_to.day) == (1, 1, 12, 31)
        and date_from.year == date_to.year
        else f"{date_from:%Y-%m-%d}至{date_to:%Y-%m-%d}"
    )
    return ledger_workbook(stmt, f"{where}代表活动台账（{span}）")


def _visible(obj, user: StaffUser) -> bool:
    from app.auth.scope import is_visible

    return is_visible(obj, user)


def _period(params: dict) -> tuple[date, date]:
    year = str(params.get("year") or "").strip()
    try:
        if params.get("from") or params.get("to"):
            date_from = date.fromisoformat(str(params.get("from") or f"{year or date.today().year}-01-01"))
            date_to = date.fromisoformat(str(params.get("to") or f"{date_from.year}-12-31"))
        elif year.isdigit() and 2000 <= int(year) <= 2100:
            date_from, date_to = date(int(year), 1, 1), date(int(year), 12, 31)
        else:
            raise ValidationFailed("请填写年度（如 2026）或起止日期。")
    except ValueError:
        raise ValidationFailed("日期格式应为 年-月-日。") from None
    if date_from > date_to:
        raise ValidationFailed("开始日期晚于结束日期。")
    return date_from, date_to

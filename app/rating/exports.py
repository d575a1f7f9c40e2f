"""Score sheets as Excel: a station's sheet (a row per 附件3 item), the year's ratings (a row per station)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.exports.xlsx import Column, SheetSource, WorkbookSource, keyset_rows
from app.extensions import db
from app.rating.models import SheetState
from app.rating.service import LEVEL_LABELS, ScoreSheet, rated_stations_select, score_sheets
from app.stations.models import Station
from app.timeutil import local_now

SHEET_COLUMNS = (
    Column("项目", 10),
    Column("具体指标", 60, "wrap"),
    Column("满分", 7, "number"),
    Column("得分", 7, "number"),
    Column("计分方式", 10),
    Column("依据或说明", 60, "wrap"),
)

YEAR_COLUMNS = (
    Column("市(县)区", 12),
    Column("镇(街道)", 14),
    Column("家站点", 30, "wrap"),
    Column("站点代码", 12),
    Column("类型", 14),
    Column("功能配套", 9, "number"),
    Column("制度建设", 9, "number"),
    Column("联系群众", 9, "number"),
    Column("作用发挥", 9, "number"),
    Column("加分", 7, "number"),
    Column("总分", 8, "number"),
    Column("得分等级", 10),
    Column("流程状态", 12),
    Column("区推荐等级", 11),
    Column("市评定等级", 11),
)


def sheet_workbook(view: ScoreSheet) -> WorkbookSource:
    """The station's score sheet as it would be filed: every item, then the group totals and the level."""
    rows: list[list] = []
    for group in view.groups:
        for entry in group.items:
            rows.append(
                [
                    group.group.name,
                    entry.item.title,
                    entry.item.max,
                    float(entry.score) if entry.score is not None else None,
                    "自动计分" if entry.auto else "评定录入",
                    entry.evidence if entry.auto else entry.note,
                ]
            )
    for group in view.groups:
        cap = "（限10分）" if group.group.is_bonus else ""
        rows.append(
            [group.group.name, f"{group.group.name}小计{cap}", group.group.max, float(group.score), "", ""]
        )
    rows.append(
        ["合计", "总分（百分制得分 + 加分）", 110, float(view.total), "", f"等级：{view.level_label}"]
    )
    title = f"{view.station.name} {view.year}年度星级评分表"
    sheet = SheetSource(title=title, name="评分表", columns=SHEET_COLUMNS, total=len(rows), batches=[rows])
    return WorkbookSource(filename=f"{title}.xlsx", sheets=[sheet])


def _regions(station: Station) -> tuple[str, str]:
    names: dict[str, str] = {}
    region = station.region
    while region is not None:
        names[region.level] = region.name
        region = region.parent
    return names.get("district", ""), names.get("town", "")


def year_workbook(user: StaffUser | None, year: int, batch_size: int = 200) -> WorkbookSource:
    """Every rated station (of the user's scope; all for the operator) with its year's scores."""
    stmt = rated_stations_select(user)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    stmt = stmt.options(selectinload(Station.region))
    today = local_now().date()

    def rows(stations: list[Station]) -> list[list]:
        views = score_sheets(stations, year, today)
        out = []
        for station in stations:
            view = views[station.id]
            sheet = view.sheet
            district, town = _regions(station)
            out.append(
                [
                    district,
                    town,
                    station.name,
                    station.code,
                    station.kind_label,
                    *[float(g.score) for g in view.groups],
                    float(view.total),
                    view.level_label,
                    sheet.state_label if sheet is not None else SheetState.DRAFT.label,
                    LEVEL_LABELS.get(sheet.recommended_level or "", "") if sheet is not None else "",
                    LEVEL_LABELS.get(sheet.decided_level or "", "") if sheet is not None else "",
                ]
            )
        return out

    batches = keyset_rows(stmt, Station.id, batch_size=batch_size, to_rows=rows)
    title = f"{year}年度家站点星级评定汇总表"
    sheet = SheetSource(title=title, name="星级评定", columns=YEAR_COLUMNS, total=total, batches=batches)
    return WorkbookSource(filename=f"{title}.xlsx", sheets=[sheet])

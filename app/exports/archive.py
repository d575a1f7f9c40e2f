"""履职档案 as Excel: one row per deputy and year, each requirement met or how far behind (三(二)4)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.auth.scope import region_ids_under, scoped_select
from app.deputies.models import Deputy
from app.exports.params import parse_year, region_by_code
from app.exports.xlsx import Column, SheetSource, WorkbookSource, keyset_rows
from app.extensions import db
from app.ledger.archive import OUTCOME_LABELS, deputy_year_summaries

COLUMNS = (
    Column("姓名", 10),
    Column("代表层级", 18, "wrap"),
    Column("单位和职务", 24, "wrap"),
    Column("编入家站点", 26, "wrap"),
    Column("参加活动（次）", 9, "int"),
    Column("接待选民（次）", 9, "int"),
    Column("接待群众（人次）", 9, "int"),
    Column("集中履职学习（出席/应出席）", 13),
    Column("收集意见建议（条）", 9, "int"),
    Column("意见办理结果", 22, "wrap"),
    Column("固定联系群众（名）", 9, "int"),
    Column("联系达2次的（名）", 9, "int"),
    Column("年度要求", 8),
    Column("未完成的要求", 36, "wrap"),
)


def _batch_rows(deputies: list[Deputy], year: int) -> list[list]:
    summaries = deputy_year_summaries([d.id for d in deputies], year)
    rows = []
    for deputy in deputies:
        s = summaries[deputy.id]
        outcomes = "、".join(f"{OUTCOME_LABELS.get(k, k)} {n}" for k, n in s.opinion_outcomes.items() if n)
        behind = "；".join(f"{r.title}：还差 {r.gap} {r.unit}" for r in s.behind)
        rows.append(
            [
                deputy.name,
                deputy.levels_label,
                deputy.unit_and_post,
                "、".join(p.station.name for p in deputy.placements),
                s.activities_attended,
                s.receptions_attended,
                s.residents_received,
                f"{s.study_attended}/{s.study_expected}",
                s.opinions_collected,
                outcomes,
                len(s.fixed_contacts),
                sum(1 for c in s.fixed_contacts if c.met),
                "已完成" if s.all_met else "未完成",
                behind,
            ]
        )
    return rows


def archive_for(user: StaffUser | None, params: dict) -> WorkbookSource:
    """The 履职档案 of every deputy the user sees (operator: all, or a region's), for a year."""
    year = parse_year(params)
    stmt = scoped_select(Deputy, user) if user is not None else select(Deputy)
    stmt = stmt.where(Deputy.active.is_(True))
    where = user.scope_label if user is not None else "全市"
    if params.get("region_code"):
        region = region_by_code(params["region_code"])
        stmt = stmt.where(Deputy.region_id.in_(region_ids_under(region.path)))
        where = region.name
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    stmt = stmt.options(selectinload(Deputy.mandates), selectinload(Deputy.placements))
    title = f"{where}人大代表{year}年度履职档案"
    # Rows are built a batch at a time: the archive reads grouped queries per batch of deputies.
    batches = keyset_rows(
        stmt, Deputy.id, batch_size=200, to_rows=lambda deputies: _batch_rows(deputies, year)
    )
    sheet = SheetSource(title=title, name="履职档案", columns=COLUMNS, total=total, batches=batches)
    return WorkbookSource(filename=f"{title}.xlsx", sheets=[sheet])

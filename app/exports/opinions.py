"""The opinions list as an Excel sheet: the console inbox's filters and scope, phones masked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.auth.scope import station_ids_under
from app.exports.params import region_by_code
from app.exports.xlsx import Column, SheetSource, WorkbookSource, keyset_rows
from app.extensions import db
from app.opinions.inbox import inbox_select, parse_filter
from app.opinions.models import SATISFACTION_LABELS, Category, Channel, Opinion, OpinionStatus
from app.security.masking import mask_phones_in_text
from app.template_helpers import mask_name, mask_phone
from app.timeutil import local_day_start

COLUMNS = (
    Column("跟踪号", 14),
    Column("提交时间", 17, "datetime"),
    Column("留言渠道", 10),
    Column("家站点", 26, "wrap"),
    Column("接待代表", 10),
    Column("联系人", 8),
    Column("联系电话", 14),
    Column("意见内容", 50, "wrap"),
    Column("分类", 10),
    Column("办理状态", 10),
    Column("承办单位", 20, "wrap"),
    Column("办理期限", 11, "date"),
    Column("答复时间", 17, "datetime"),
    Column("满意度", 8),
)


def operator_select(region_code: str | None, date_from: date | None, date_to: date | None) -> Select:
    """Every opinion (the CLI's operator sees all), optionally one region's and a period's."""
    stmt = select(Opinion)
    if region_code:
        region = region_by_code(region_code, field="region")
        stations = station_ids_under(region.path)
        stmt = stmt.where(Opinion.station_id.in_(stations))
    if date_from:
        stmt = stmt.where(Opinion.created_at >= local_day_start(date_from))
    if date_to:
        stmt = stmt.where(Opinion.created_at < local_day_start(date_to + timedelta(days=1)))
    return stmt


def staff_select(user: StaffUser, args: Mapping[str, object]) -> Select:
    """What the user's inbox shows with these filters (the same query, so the same scope)."""
    return inbox_select(user, parse_filter(args))


def _category_names() -> dict[str, str]:
    return {code: name for code, name in db.session.execute(select(Category.code, Category.name))}


def _row(opinion: Opinion, categories: dict[str, str]) -> list:
    return [
        opinion.tracking_no,
        opinion.created_at,
        Channel(opinion.channel).label,
        opinion.station.name if opinion.station else "",
        opinion.deputy.name if opinion.deputy else "",
        mask_name(opinion.contact_name),
        mask_phone(opinion.contact_mobile),
        mask_phones_in_text(opinion.content),  # a number the resident typed into the text, too
        categories.get(opinion.category or "", opinion.category or ""),
        OpinionStatus(opinion.status).label,
        opinion.unit.name if opinion.unit else "",
        opinion.deadline,
        opinion.replied_at,
        SATISFACTION_LABELS.get(opinion.satisfaction or "", ""),
    ]


def opinions_workbook(
    stmt: Select, title: str = "群众意见建议办理情况表", batch_size: int = 1000
) -> WorkbookSource:
    """The sheet of the opinions ``stmt`` selects, streamed in batches by id."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    stmt = stmt.options(
        selectinload(Opinion.station), selectinload(Opinion.unit), selectinload(Opinion.deputy)
    )
    categories = _category_names()

    batches = keyset_rows(stmt, Opinion.id, lambda opinion: _row(opinion, categories), batch_size)
    sheet = SheetSource(title=title, name="意见建议", columns=COLUMNS, total=total, batches=batches)
    return WorkbookSource(filename=f"{title}.xlsx", sheets=[sheet])

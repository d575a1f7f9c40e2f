"""The export kinds the console and the CLI offer, each a builder of a workbook for a user (or operator)."""

from __future__ import annotations

from datetime import date

from app.auth.models import StaffUser
from app.console.access import ADMINS, EVERYONE, STATION_WORKERS
from app.errors import ValidationFailed
from app.exports.archive import archive_for
from app.exports.jobs import register_export
from app.exports.ledger import ledger_for
from app.exports.opinions import operator_select, opinions_workbook, staff_select
from app.exports.xlsx import WorkbookSource


def parse_day(raw: object, label: str) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}格式应为 年-月-日。") from None


def _opinions(user: StaffUser | None, params: dict) -> WorkbookSource:
    if user is None:
        stmt = operator_select(
            params.get("region_code"),
            parse_day(params.get("from"), "开始日期"),
            parse_day(params.get("to"), "结束日期"),
        )
    else:
        stmt = staff_select(user, params)
    return opinions_workbook(stmt)


register_export("opinions", "群众意见建议", frozenset(EVERYONE), _opinions)


def _year(params: dict) -> int:
    text = str(params.get("year") or "").strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise ValidationFailed("请填写年度，如 2026。")
    return int(text)


def _ratings(user: StaffUser | None, params: dict) -> WorkbookSource:
    from app.rating.exports import year_workbook

    return year_workbook(user, _year(params))


register_export("ledger", "代表活动台账", frozenset(STATION_WORKERS), ledger_for)
register_export("ratings", "星级评定汇总", frozenset(ADMINS), _ratings)
register_export("archive", "代表履职档案", frozenset(STATION_WORKERS), archive_for)

"""The export kinds the console and the CLI offer, each a builder of a workbook for a user (or operator)."""

from __future__ import annotations

from app.auth.models import StaffUser
from app.console.access import ADMINS, EVERYONE, STATION_WORKERS
from app.exports.archive import archive_for
from app.exports.jobs import register_export
from app.exports.ledger import ledger_for
from app.exports.opinions import operator_select, opinions_workbook, staff_select
from app.exports.params import parse_day, parse_year
from app.exports.xlsx import WorkbookSource


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


def _ratings(user: StaffUser | None, params: dict) -> WorkbookSource:
    from app.rating.exports import year_workbook

    return year_workbook(user, parse_year(params))


register_export("ledger", "代表活动台账", frozenset(STATION_WORKERS), ledger_for)
register_export("ratings", "星级评定汇总", frozenset(ADMINS), _ratings)
register_export("archive", "代表履职档案", frozenset(STATION_WORKERS), archive_for)

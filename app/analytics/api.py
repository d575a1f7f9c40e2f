"""``/api/v1/staff/stats`` and ``/stats/hotwords``: the dashboards' figures for scripts and the
regional platform, scoped to the caller like every staff call (routes in app/api/staff/views.py).

Region and station are codes, as everywhere in the staff API; one outside the caller's scope
(or unknown) is 404, a malformed argument 422.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.analytics.kpi import totals
from app.analytics.service import resolve_api_filters
from app.analytics.words import hot_words
from app.api.schemas import DATE_RANGE
from app.auth.models import StaffUser
from app.auth.scope import scope_of
from app.timeutil import local_now

RATE = {"allow_none": True, "validate": validate.Range(min=0, max=1)}


class StatsArgs(ma.Schema):
    date_from = fields.Date(
        data_key="from",
        validate=DATE_RANGE,
        metadata={"description": "提交日期起 YYYY-MM-DD（含），默认截止日期前 11 个月的月初"},
    )
    date_to = fields.Date(
        data_key="to", validate=DATE_RANGE, metadata={"description": "提交日期止 YYYY-MM-DD（含），默认今天"}
    )
    region = fields.String(
        validate=validate.Regexp(r"^[0-9A-Za-z]{1,32}$", error="区域代码无效。"),
        metadata={"description": "区域代码：该区域及下级区域的站点"},
    )
    station = fields.String(
        validate=validate.Regexp(r"^[0-9A-Za-z]{1,16}$", error="站点编号无效。"),
        metadata={"description": "站点编号"},
    )

    @ma.validates_schema
    def _order(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("开始日期不能晚于结束日期。", field_name="from")


class HotwordsArgs(StatsArgs):
    limit = fields.Integer(
        load_default=30,
        validate=validate.Range(min=1, max=200, error="limit 应在 1 到 200 之间。"),
        metadata={"description": "最多返回多少个词"},
    )


class StatsSchema(ma.Schema):
    received = fields.Integer(required=True, metadata={"description": "统计期内收到的意见条数"})
    accepted = fields.Integer(required=True, metadata={"description": "其中已受理的"})
    closed = fields.Integer(required=True, metadata={"description": "其中已办结的"})
    overdue = fields.Integer(required=True, metadata={"description": "其中目前逾期未答复的"})
    on_time_accept_rate = fields.Float(
        required=True, **RATE, metadata={"description": "按时受理率，无数据为 null"}
    )
    on_time_close_rate = fields.Float(
        required=True, **RATE, metadata={"description": "按时办结率，无数据为 null"}
    )
    feedback_rate = fields.Float(required=True, **RATE, metadata={"description": "反馈率，无数据为 null"})
    satisfaction_rate = fields.Float(required=True, **RATE, metadata={"description": "满意率，无数据为 null"})


class HotwordSchema(ma.Schema):
    word = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "统计期内含这个词的意见条数"})
    change = fields.Integer(
        required=True, metadata={"description": "比上一个等长统计期多（正）或少（负）的条数"}
    )


class HotwordListSchema(ma.Schema):
    items = fields.List(fields.Nested(HotwordSchema), required=True)


def stats_for(user: StaffUser, args: dict) -> dict:
    """The Contract's eight figures for what the caller may see (definitions: app.analytics.kpi)."""
    today = local_now().date()
    f = resolve_api_filters(user, args, today)
    return totals(scope_of(user), f, today).stats()


def hotwords_for(user: StaffUser, args: dict) -> dict:
    """Hot words of the period, most frequent first, with the change on the previous period."""
    today = local_now().date()
    f = resolve_api_filters(user, args, today)
    words = hot_words(scope_of(user), f, today, limit=args.get("limit", 30))
    return {"items": [{"word": h.word, "count": h.count, "change": h.change} for h in words]}

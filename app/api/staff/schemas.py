"""Shapes of the staff API: what it reads (arguments) and what it answers (documented dicts).

Response schemas list every key the views always send (``required``), ``null`` only where
``allow_none`` says so. Statuses are the stable English keys of ``OpinionStatus`` with the
Chinese label beside them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api.schemas import (
    DATE_RANGE,
    DB_ID,
    NO_CONTROL_CHARS,
    NO_NUL,
    DeputyRefSchema,
    PagingArgs,
    RegionRefSchema,
)
from app.auth.models import Role
from app.notify.models import OutboxStatus
from app.opinions.inbox import OPEN, Q_MAX, SORTS
from app.opinions.models import Channel, OpinionStatus
from app.opinions.pipeline import ACTION_LABELS, ACTIONS
from app.receptions.models import ReceptionKind, ReceptionStatus
from app.units.models import UnitKind

STATUSES = [status.value for status in OpinionStatus]
STATION_CODE = validate.Regexp(r"^[0-9A-Za-z]{1,16}$", error="站点编号无效。")
UNIT_CODE = validate.Regexp(r"^[0-9A-Za-z_-]{1,32}$", error="单位代码无效。")
REGION_CODE = validate.Regexp(r"^[0-9A-Za-z]{1,32}$", error="区域代码无效。")
SCOPE_KINDS = ["region", "station", "unit", "deputy"]
ACTION_NAMES = list(ACTIONS)


# --- sign-in and who am I -------------------------------------------------------------------


class StaffTokenArgs(ma.Schema):
    username = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64, error="用户名为 1-64 个字符。"), NO_CONTROL_CHARS],
        metadata={"description": "管理后台的用户名"},
    )
    password = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=128, error="密码为 1-128 个字符。"), NO_NUL],
        metadata={"description": "管理后台的密码"},
    )


class StaffScopeSchema(ma.Schema):
    """Where the user works: a region (admins), a station, a unit, or their deputy record."""

    kind = fields.String(required=True, validate=validate.OneOf(SCOPE_KINDS))
    region_code = fields.String(metadata={"description": "管理员：所辖区域代码"})
    region_name = fields.String()
    station_code = fields.String(metadata={"description": "家站点工作人员：站点编号"})
    station_name = fields.String()
    unit_code = fields.String(metadata={"description": "承办单位工作人员：单位代码"})
    unit_name = fields.String()
    deputy_id = fields.Integer(metadata={"description": "人大代表：代表编号"})
    deputy_name = fields.String()


class StaffMeSchema(ma.Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(
        required=True,
        validate=validate.OneOf([role.value for role in Role]),
        metadata={
            "description": "city_admin / district_admin / town_admin 管理员，station_staff 家站点工作人员，"
            "unit_staff 承办单位工作人员，deputy 人大代表"
        },
    )
    role_label = fields.String(required=True)
    scope = fields.Nested(StaffScopeSchema, required=True)


# --- opinions -------------------------------------------------------------------------------


class StaffOpinionListArgs(PagingArgs):
    status = fields.String(
        validate=validate.OneOf([*STATUSES, OPEN], error="未知的办理状态。"),
        metadata={"description": "办理状态（英文键）；open：所有尚未办完的"},
    )
    station = fields.String(validate=STATION_CODE, metadata={"description": "站点编号"})
    unit = fields.String(validate=UNIT_CODE, metadata={"description": "承办单位代码"})
    region = fields.String(validate=REGION_CODE, metadata={"description": "区域代码：该区域及下级区域的站点"})
    category = fields.String(
        validate=[validate.Length(max=32, error="类别不能超过 32 个字。"), NO_CONTROL_CHARS],
        metadata={"description": "类别代码"},
    )
    channel = fields.String(
        validate=validate.OneOf([c.value for c in Channel], error="未知的留言渠道。"),
        metadata={"description": "wechat 公众号，h5 扫码，miniapp 小程序，staff 现场收集"},
    )
    overdue = fields.Boolean(metadata={"description": "1：只看逾期未答复的"})
    late = fields.Boolean(metadata={"description": "1：只看超过受理时限仍未受理的"})
    todo = fields.Boolean(metadata={"description": "1：只看等待本人角色处理的"})
    date_from = fields.Date(
        data_key="from", validate=DATE_RANGE, metadata={"description": "提交日期起 YYYY-MM-DD（含）"}
    )
    date_to = fields.Date(
        data_key="to", validate=DATE_RANGE, metadata={"description": "提交日期止 YYYY-MM-DD（含）"}
    )
    q = fields.String(
        validate=[validate.Length(max=Q_MAX, error=f"搜索词不能超过 {Q_MAX} 个字。"), NO_CONTROL_CHARS],
        metadata={"description": "内容包含的文字，或查询编号"},
    )
    sort = fields.String(
        load_default="deadline",
        validate=validate.OneOf(list(SORTS), error="排序应为 deadline、newest 或 oldest。"),
        metadata={"description": "deadline 按紧急程度（默认），newest 最新提交，oldest 最早提交"},
    )

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            raise ma.ValidationError("截止日期不能早于起始日期。", field_name="to")


class StaffOpinionSchema(ma.Schema):
    tracking_no = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_label = fields.String(required=True, metadata={"description": "如 待受理、已交办、已办结"})
    station_code = fields.String(required=True)
    station_name = fields.String(required=True)
    category = fields.String(required=True, allow_none=True, metadata={"description": "类别代码"})
    category_name = fields.String(required=True, allow_none=True)
    unit_code = fields.String(required=True, allow_none=True, metadata={"description": "承办单位代码"})
    unit_name = fields.String(required=True, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf([c.value for c in Channel]))
    deadline = fields.Date(required=True, allow_none=True, metadata={"description": "答复期限（工作日计）"})
    overdue = fields.Boolean(required=True, metadata={"description": "已过答复期限仍未答复"})
    late = fields.Boolean(required=True, metadata={"description": "超过受理时限仍未受理"})
    created_at = fields.DateTime(required=True)


class StaffOpinionListSchema(ma.Schema):
    items = fields.List(fields.Nested(StaffOpinionSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "符合条件的总条数"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class StaffContactSchema(ma.Schema):
    name = fields.String(required=True, metadata={"description": "如 王*"})
    mobile = fields.String(required=True, metadata={"description": "如 139****5678"})


class StaffOpinionEventSchema(ma.Schema):
    action = fields.String(required=True, metadata={"description": "如 accept、assign、reply"})
    action_label = fields.String(required=True)
    from_status = fields.String(required=True, allow_none=True, data_key="from")
    to_status = fields.String(required=True, allow_none=True, data_key="to")
    actor = fields.String(required=True, metadata={"description": "staff:<用户名>、resident 或 system"})
    at = fields.DateTime(required=True)
    note = fields.String(required=True)


class StaffOpinionDetailSchema(StaffOpinionSchema):
    content = fields.String(required=True)
    contact = fields.Nested(
        StaffContactSchema,
        required=True,
        allow_none=True,
        metadata={"description": "群众联系方式（已打码）；未留下时为 null"},
    )
    legal = fields.Boolean(required=True, metadata={"description": "涉法涉诉"})
    major = fields.Boolean(required=True, metadata={"description": "重大/普遍"})
    needs_decision = fields.Boolean(required=True, metadata={"description": "群众再次不满意，待上级决定"})
    urge_count = fields.Integer(required=True, metadata={"description": "催办次数"})
    owner = fields.Nested(RegionRefSchema, required=True, metadata={"description": "当前负责办理的人大"})
    reply_text = fields.String(required=True, metadata={"description": "承办单位的答复"})
    answer_text = fields.String(required=True, metadata={"description": "群众看到的答复、引导或不予受理理由"})
    satisfaction = fields.String(required=True, allow_none=True)
    merged_into = fields.String(
        required=True, allow_none=True, metadata={"description": "合并到的留言编号（您可查看时）"}
    )
    events = fields.List(
        fields.Nested(StaffOpinionEventSchema), required=True, metadata={"description": "办理经过"}
    )
    actions = fields.List(
        fields.String(validate=validate.OneOf(ACTION_NAMES)),
        required=True,
        metadata={"description": "您此刻可以执行的操作"},
    )


class StaffActionArgs(ma.Schema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(ACTION_NAMES, error="未知的操作。"),
        metadata={"description": "；".join(f"{name} {ACTION_LABELS[name]}" for name in ACTION_NAMES)},
    )
    reason = fields.String(
        validate=[validate.Length(max=500, error="理由不能超过 500 个字。"), NO_NUL],
        metadata={"description": "reject 不予受理、return 申请退回的理由"},
    )
    note = fields.String(
        validate=[validate.Length(max=500, error="说明不能超过 500 个字。"), NO_NUL],
        metadata={"description": "urge 催办意见；accept、escalate、convert、close、reassign 的说明"},
    )
    text = fields.String(
        validate=[validate.Length(max=4000, error="内容不能超过 4000 个字。"), NO_NUL],
        metadata={"description": "reply 答复内容；guide 依法反映的途径；feedback 反馈给群众的文字（可选）"},
    )
    category = fields.String(
        validate=[validate.Length(max=32, error="类别不能超过 32 个字。"), NO_CONTROL_CHARS],
        metadata={"description": "classify：类别代码（见 /api/v1/staff/categories）"},
    )
    legal = fields.Boolean(metadata={"description": "classify：涉法涉诉"})
    major = fields.Boolean(metadata={"description": "classify：重大/普遍"})
    unit_code = fields.String(
        validate=UNIT_CODE,
        metadata={"description": "assign：承办单位代码（见 /api/v1/staff/units）；guide：相关司法/信访部门"},
    )
    into = fields.String(
        validate=[validate.Length(max=64, error="留言编号无效。"), NO_CONTROL_CHARS],
        metadata={"description": "merge：合并到的留言编号"},
    )
    deputy_ids = fields.List(
        fields.Integer(strict=True, validate=DB_ID),
        validate=validate.Length(max=20, error="最多 20 位代表。"),
        metadata={"description": "convert：提出建议的代表编号（须编入该站点）"},
    )


# --- what an action may name ----------------------------------------------------------------


class StaffCodeNameSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class StaffCategorySchema(StaffCodeNameSchema):
    deadline_workdays = fields.Integer(required=True, metadata={"description": "答复期限（工作日）"})


class StaffCategoryListSchema(ma.Schema):
    items = fields.List(fields.Nested(StaffCategorySchema), required=True)


class StaffUnitSchema(StaffCodeNameSchema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf([k.value for k in UnitKind]),
        metadata={"description": "government 政府部门，judicial 司法机关，petition 信访部门，other 其他"},
    )
    region = fields.Nested(RegionRefSchema, required=True)


class StaffUnitListSchema(ma.Schema):
    items = fields.List(fields.Nested(StaffUnitSchema), required=True)


# --- receptions (issue 7: 公告接待时间) ---------------------------------------------------------

RECEPTION_KINDS = [kind.value for kind in ReceptionKind]
RECEPTION_STATUSES = [status.value for status in ReceptionStatus]
DEPUTIES_MAX = 50


class StaffReceptionArgs(ma.Schema):
    station_code = fields.String(
        required=True, validate=STATION_CODE, metadata={"description": "家站点编号（须在您的管辖范围内）"}
    )
    # Dates and times as text: the receptions service reads them and explains a bad one in Chinese.
    date = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=10, error="接待日期格式应为 YYYY-MM-DD。"), NO_CONTROL_CHARS],
        metadata={"description": "接待日期 YYYY-MM-DD，不早于今天", "example": "2026-12-15"},
    )
    start = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=8, error="开始时间格式应为 HH:MM。"), NO_CONTROL_CHARS],
        metadata={"description": "开始时间 HH:MM", "example": "09:00"},
    )
    end = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=8, error="结束时间格式应为 HH:MM。"), NO_CONTROL_CHARS],
        metadata={"description": "结束时间 HH:MM，晚于开始时间", "example": "11:30"},
    )
    topic = fields.String(
        load_default="",
        validate=[validate.Length(max=200, error="接待主题最多 200 个字。"), NO_NUL],
        metadata={"description": "接待主题；专题接待必填，空时用接待类型的名称"},
    )
    kind = fields.String(
        load_default=ReceptionKind.OTHER.value,
        validate=validate.OneOf(RECEPTION_KINDS, error="未知的接待类型。"),
        metadata={
            "description": "service_day 代表联系服务群众日，topic 专题接待，report 代表述职，"
            "appointment 约见，other 其他接待（默认）"
        },
    )
    deputies = fields.List(
        fields.Integer(validate=DB_ID),
        load_default=list,
        validate=validate.Length(max=DEPUTIES_MAX, error=f"值班代表最多 {DEPUTIES_MAX} 名。"),
        metadata={"description": "值班代表的编号，须编入该站且在任；公告时至少一名"},
    )
    announce = fields.Boolean(
        load_default=False,
        metadata={"description": "true：立即公告，并向关注该站、愿意接收公告的群众推送；false：保存为草稿"},
    )
    slot_minutes = fields.Integer(
        validate=validate.Range(min=10, max=240, error="每个预约时段应为 10-240 分钟。"),
        metadata={"description": "每个预约时段的分钟数，默认 30"},
    )
    slot_capacity = fields.Integer(
        validate=validate.Range(min=0, max=200, error="每时段可预约人数应为 0-200。"),
        metadata={"description": "每时段可预约人数，0（默认）表示不开放预约"},
    )


class StaffReceptionSchema(ma.Schema):
    id = fields.Integer(required=True)
    station_code = fields.String(required=True)
    station_name = fields.String(required=True)
    date = fields.Date(required=True)
    start = fields.String(required=True, metadata={"description": "HH:MM"})
    end = fields.String(required=True, metadata={"description": "HH:MM"})
    kind = fields.String(required=True, validate=validate.OneOf(RECEPTION_KINDS))
    kind_label = fields.String(required=True)
    topic = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RECEPTION_STATUSES))
    status_label = fields.String(required=True)
    slot_minutes = fields.Integer(required=True)
    slot_capacity = fields.Integer(required=True)
    deputies = fields.List(fields.Nested(DeputyRefSchema), required=True)
    announced_at = fields.DateTime(required=True, allow_none=True)
    pushes_queued = fields.Integer(
        required=True, metadata={"description": "为本场排队的公告推送条数（每位愿意接收公告的关注者一条）"}
    )
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "提醒，例如公告晚于规定的提前天数（ANNOUNCE_MIN_DAYS）：照常公告，只是提醒"},
    )


# --- outbox (city admins) -------------------------------------------------------------------

OUTBOX_STATUSES = [status.value for status in OutboxStatus]


class StaffOutboxListArgs(PagingArgs):
    status = fields.String(
        validate=validate.OneOf(OUTBOX_STATUSES, error="未知的推送状态。"),
        metadata={
            "description": "pending 待发送，sent 已发送，undeliverable 无法送达，dead 发送失败，review 待核实"
        },
    )
    kind = fields.String(
        validate=[validate.Length(min=1, max=32, error="消息类型为 1-32 个字符。"), NO_CONTROL_CHARS],
        metadata={"description": "消息类型，例如 reception_announced、opinion_update"},
    )
    openid = fields.String(
        validate=[validate.Length(min=1, max=64, error="openid 为 1-64 个字符。"), NO_CONTROL_CHARS],
        metadata={"description": "按 openid 的一部分查找"},
    )


class StaffOutboxItemSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "template / subscribe / customer"})
    openid = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(OUTBOX_STATUSES))
    status_label = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True)
    dedup_key = fields.String(required=True)
    next_attempt_at = fields.DateTime(required=True, allow_none=True)
    sent_at = fields.DateTime(required=True, allow_none=True)
    delivery = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "微信送达回执（TEMPLATESENDJOBFINISH）：success 或失败原因；未回执为 null"},
    )


class StaffOutboxListSchema(ma.Schema):
    items = fields.List(fields.Nested(StaffOutboxItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"description": "各状态的条数"}
    )

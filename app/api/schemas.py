"""Schemas shared by the API's resources: paging, and the public shape of stations and deputies.

Response schemas document what the views return (dicts built by the views); every key is
always present (``required``), and may be ``null`` only where ``allow_none`` says so, so a
client generated from the OpenAPI document can rely on them.
"""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from app.deputies.models import MandateLevel
from app.opinions.models import SATISFACTION_LABELS, Channel, OpinionStatus
from app.public.queries import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LEN, STATION_KINDS
from app.receptions.models import BookingStatus, ReceptionKind, ReceptionStatus

NO_CONTROL_CHARS = validate.Regexp(r"^[^\x00-\x1f]*$", error="包含无效字符。")


class PagingArgs(ma.Schema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE, error=f"页码应在 1 到 {MAX_PAGE} 之间。"),
        metadata={"description": "页码，从 1 开始"},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error=f"每页条数应在 1 到 {MAX_PER_PAGE} 之间。"),
        metadata={"description": f"每页条数，1-{MAX_PER_PAGE}，默认 {DEFAULT_PER_PAGE}"},
    )


class StationListArgs(PagingArgs):
    region = fields.String(
        validate=[
            validate.Regexp(r"^[0-9A-Za-z]{1,32}$", error="区域代码只能由字母和数字组成。"),
        ],
        metadata={"description": "区域代码：返回该区域及其下级区域的全部站点"},
    )
    kind = fields.String(
        validate=validate.OneOf(STATION_KINDS, error="站点类型应为 home、station 或 point。"),
        metadata={"description": "home 人大代表之家，station 人大代表联络站，point 人大代表联系点"},
    )
    q = fields.String(
        validate=[
            validate.Length(max=MAX_QUERY_LEN, error=f"搜索词不能超过 {MAX_QUERY_LEN} 个字。"),
            NO_CONTROL_CHARS,
        ],
        metadata={"description": "站点名称包含的文字"},
    )


class LocationSchema(ma.Schema):
    lat = fields.Float(required=True, allow_none=True, metadata={"description": "纬度（WGS-84）"})
    lng = fields.Float(required=True, allow_none=True, metadata={"description": "经度（WGS-84）"})


class RegionRefSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class StationSchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "站点公开代码（标识牌二维码中）"})
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(STATION_KINDS))
    kind_label = fields.String(required=True, metadata={"description": "人大代表之家 / 联络站 / 联系点"})
    address = fields.String(required=True)
    phone = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)
    region = fields.Nested(RegionRefSchema, required=True)
    opening_hours = fields.String(required=True)


class StationListSchema(ma.Schema):
    items = fields.List(fields.Nested(StationSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "符合条件的站点总数"})


class DeputySchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    photo_url = fields.String(required=True, allow_none=True, metadata={"format": "uri"})
    levels = fields.List(
        fields.String(validate=validate.OneOf([level.value for level in MandateLevel])),
        required=True,
        metadata={"description": "代表资格层级：national/provincial/city/district/town"},
    )
    levels_label = fields.String(required=True, metadata={"description": "如：市人大代表"})
    unit = fields.String(required=True)
    post = fields.String(required=True)
    public_contact = fields.String(required=True)


class StationDetailSchema(StationSchema):
    intro = fields.String(required=True)
    area_m2 = fields.Integer(required=True, allow_none=True)
    deputies = fields.List(fields.Nested(DeputySchema), required=True)


# --- the mini-program: sign-in, where, when, booking, opinions, subscriptions ------------------

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="时间格式应为 HH:MM。")
MOBILE = validate.Regexp(r"^1[3-9]\d{9}$", error="请填写正确的 11 位手机号码。")
STATION_CODE = validate.Regexp(r"^[0-9A-Za-z]{1,16}$", error="站点编号无效。")
# PostgreSQL refuses NUL in text; line breaks are fine in an opinion's content.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="包含无效字符。")
DB_ID = validate.Range(min=1, max=2**31 - 1, error="编号无效。")
NEARBY_MAX = 20
RANGE_MAX_DAYS = 366


class LoginArgs(ma.Schema):
    code = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=128, error="登录凭证无效。"), NO_CONTROL_CHARS],
        metadata={"description": "小程序 wx.login() 得到的 code（一次有效）"},
    )


class TokenSchema(ma.Schema):
    token = fields.String(
        required=True, metadata={"description": "之后的请求带上 Authorization: Bearer <token>"}
    )
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(required=True, metadata={"description": "有效期（秒）；过期后重新登录"})


class NearbyArgs(ma.Schema):
    lat = fields.Float(
        required=True,
        validate=validate.Range(min=-90, max=90, error="纬度应在 -90 到 90 之间。"),
        metadata={"description": "纬度（WGS-84，wx.getLocation 的 latitude）"},
    )
    lng = fields.Float(
        required=True,
        validate=validate.Range(min=-180, max=180, error="经度应在 -180 到 180 之间。"),
        metadata={"description": "经度（WGS-84，wx.getLocation 的 longitude）"},
    )
    limit = fields.Integer(
        load_default=5,
        validate=validate.Range(min=1, max=NEARBY_MAX, error=f"条数应在 1 到 {NEARBY_MAX} 之间。"),
        metadata={"description": f"返回几个站点，1-{NEARBY_MAX}，默认 5"},
    )


class NearbyStationSchema(StationSchema):
    distance_m = fields.Integer(required=True, metadata={"description": "直线距离（米）"})


class NearbyListSchema(ma.Schema):
    items = fields.List(fields.Nested(NearbyStationSchema), required=True)
    total = fields.Integer(required=True)


DATE_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31), error="日期超出范围。")


class ReceptionRangeArgs(ma.Schema):
    date_from = fields.Date(
        data_key="from", validate=DATE_RANGE, metadata={"description": "起始日期 YYYY-MM-DD，默认今天"}
    )
    date_to = fields.Date(
        data_key="to",
        validate=DATE_RANGE,
        metadata={"description": "截止日期 YYYY-MM-DD（含），默认起始日后 30 天"},
    )

    @ma.validates_schema
    def _ordered_and_bounded(self, data, **kwargs):
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            raise ma.ValidationError("截止日期不能早于起始日期。", field_name="to")
        if first and last and (last - first).days > RANGE_MAX_DAYS:
            raise ma.ValidationError(f"一次最多查询 {RANGE_MAX_DAYS} 天。", field_name="to")


class SlotSchema(ma.Schema):
    start = fields.String(required=True, metadata={"description": "时段开始 HH:MM（预约时填 slot_start）"})
    end = fields.String(required=True, metadata={"description": "时段结束 HH:MM"})
    capacity = fields.Integer(required=True, metadata={"description": "本时段可预约人数"})
    booked = fields.Integer(required=True, metadata={"description": "已预约人数"})
    available = fields.Integer(required=True, metadata={"description": "剩余名额"})
    open = fields.Boolean(required=True, metadata={"description": "现在还能预约：未开始且未约满"})


class ReceptionSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "预约时填 reception_id"})
    station_code = fields.String(required=True)
    date = fields.Date(required=True)
    start = fields.String(required=True, metadata={"description": "HH:MM"})
    end = fields.String(required=True, metadata={"description": "HH:MM"})
    kind = fields.String(
        required=True,
        validate=validate.OneOf([kind.value for kind in ReceptionKind]),
        metadata={
            "description": "service_day 代表联系服务群众日，topic 专题接待，report 述职，"
            "appointment 约见，other 其他"
        },
    )
    kind_label = fields.String(required=True)
    topic = fields.String(required=True)
    under_way = fields.Boolean(required=True, metadata={"description": "正在接待"})
    bookable = fields.Boolean(required=True, metadata={"description": "还有可预约的时段"})
    deputies = fields.List(fields.Nested(DeputySchema), required=True, metadata={"description": "值班代表"})
    slots = fields.List(
        fields.Nested(SlotSchema), required=True, metadata={"description": "预约时段；不接受预约时为空"}
    )


class ReceptionListSchema(ma.Schema):
    items = fields.List(fields.Nested(ReceptionSchema), required=True)
    total = fields.Integer(required=True)


class DutySchema(ma.Schema):
    now = fields.Nested(
        ReceptionSchema,
        required=True,
        allow_none=True,
        metadata={"description": "正在进行的接待，没有则为 null"},
    )
    next = fields.List(
        fields.Nested(ReceptionSchema), required=True, metadata={"description": "接下来的接待（最多 3 场）"}
    )


class BookingArgs(ma.Schema):
    reception_id = fields.Integer(required=True, strict=True, validate=DB_ID)
    slot_start = fields.String(required=True, validate=HHMM, metadata={"description": "时段开始 HH:MM"})
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=32, error="姓名为 1-32 个字。"), NO_NUL]
    )
    mobile = fields.String(required=True, validate=MOBILE, metadata={"description": "11 位手机号码"})
    topic = fields.String(
        load_default="",
        validate=[validate.Length(max=200, error="反映事项不能超过 200 个字。"), NO_NUL],
        metadata={"description": "想反映的事项（可选）"},
    )


class StationRefSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    address = fields.String(required=True)


class BookedReceptionSchema(ma.Schema):
    id = fields.Integer(required=True)
    date = fields.Date(required=True)
    start = fields.String(required=True)
    end = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([kind.value for kind in ReceptionKind]))
    kind_label = fields.String(required=True)
    topic = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ReceptionStatus]))
    status_label = fields.String(required=True)
    station = fields.Nested(StationRefSchema, required=True)


class BookingSchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "预约码：到场时出示，取消时使用"})
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in BookingStatus]))
    status_label = fields.String(required=True, metadata={"description": "已预约 / 已取消 / 已到场 / 未到场"})
    slot_start = fields.String(required=True)
    slot_end = fields.String(required=True)
    name = fields.String(required=True)
    mobile = fields.String(required=True, metadata={"description": "预约手机号（脱敏，如 138****5678）"})
    topic = fields.String(required=True)
    cancellable = fields.Boolean(required=True, metadata={"description": "时段开始前可以取消"})
    created_at = fields.DateTime(required=True)
    reception = fields.Nested(BookedReceptionSchema, required=True)


class BookingListSchema(ma.Schema):
    items = fields.List(fields.Nested(BookingSchema), required=True)
    total = fields.Integer(required=True)


class OpinionArgs(ma.Schema):
    station_code = fields.String(required=True, validate=STATION_CODE, metadata={"description": "站点编号"})
    content = fields.String(
        required=True,
        validate=[validate.Length(min=5, max=2000, error="留言内容应为 5 到 2000 个字。"), NO_NUL],
        metadata={"description": "意见建议，5-2000 字"},
    )
    category = fields.String(
        allow_none=True,
        validate=[validate.Length(max=32, error="类别不能超过 32 个字。"), NO_CONTROL_CHARS],
        metadata={"description": "类别（可选），如 城乡建设、交通出行"},
    )
    contact_name = fields.String(
        load_default="", validate=[validate.Length(max=32, error="联系人不能超过 32 个字。"), NO_NUL]
    )
    contact_mobile = fields.String(
        load_default="",
        validate=validate.Regexp(r"^(1[3-9]\d{9})?$", error="请填写正确的 11 位手机号码。"),
        metadata={"description": "手机号（可选）；不留联系方式即匿名，办理结果不推送"},
    )
    reception_id = fields.Integer(
        allow_none=True, validate=DB_ID, metadata={"description": "在哪场接待活动中提出（可选）"}
    )
    deputy_id = fields.Integer(
        allow_none=True, validate=DB_ID, metadata={"description": "向哪位代表反映（可选，须编入该站点）"}
    )


class OpinionUploadSchema(OpinionArgs):
    """The same opinion as multipart/form-data, with photos (documentation of that form)."""

    photos = fields.List(
        Upload(),
        validate=validate.Length(max=3),
        metadata={"description": "照片，最多 3 张，每张不超过 5 MB（JPG、PNG、GIF、WEBP，重新编码保存）"},
    )


class StationNameSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class DeputyRefSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class OpinionSchema(ma.Schema):
    tracking_no = fields.String(required=True, metadata={"description": "查询编号（不可猜测）"})
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in OpinionStatus]))
    status_label = fields.String(required=True, metadata={"description": "如 待受理、已交办、已办结"})
    station = fields.Nested(StationNameSchema, required=True)
    category = fields.String(required=True, allow_none=True)
    content = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf([c.value for c in Channel]))
    channel_label = fields.String(required=True)
    reception_id = fields.Integer(required=True, allow_none=True)
    deputy = fields.Nested(DeputyRefSchema, required=True, allow_none=True)
    photo_urls = fields.List(fields.String(), required=True)
    tracking_url = fields.String(required=True, metadata={"description": "网页版进度页 /t/<查询编号>"})
    created_at = fields.DateTime(required=True)


class OpinionListSchema(ma.Schema):
    items = fields.List(fields.Nested(OpinionSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "返回的条数（最新的在前）"})


class ProgressStepSchema(ma.Schema):
    label = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["done", "current", "todo"]))


class ProgressSchema(ma.Schema):
    steps = fields.List(
        fields.Nested(ProgressStepSchema), required=True, metadata={"description": "待受理→…→已办结"}
    )
    side = fields.String(
        required=True, allow_none=True, metadata={"description": "离开主流程时的去向，如 已引导依法反映"}
    )
    explanation = fields.String(required=True)


class TimelineEntrySchema(ma.Schema):
    at = fields.DateTime(required=True)
    label = fields.String(required=True)
    text = fields.String(required=True)


class AnswerSchema(ma.Schema):
    heading = fields.String(required=True)
    text = fields.String(required=True)
    at = fields.DateTime(required=True)


class OpinionDetailSchema(OpinionSchema):
    contact_name = fields.String(required=True, metadata={"description": "本人留下的联系人"})
    contact_mobile = fields.String(required=True, metadata={"description": "本人留下的手机号"})
    rateable = fields.Boolean(required=True, metadata={"description": "现在可以评价办理结果"})
    satisfaction = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(list(SATISFACTION_LABELS)),
        metadata={
            "description": "本人的评价：satisfied 满意，basically_satisfied 基本满意，unsatisfied 不满意"
        },
    )
    satisfaction_label = fields.String(required=True, allow_none=True)
    satisfaction_comment = fields.String(required=True)
    progress = fields.Nested(ProgressSchema, required=True)
    timeline = fields.List(
        fields.Nested(TimelineEntrySchema), required=True, metadata={"description": "办理经过"}
    )
    answer = fields.Nested(AnswerSchema, required=True, allow_none=True, metadata={"description": "答复"})


class RatingArgs(ma.Schema):
    satisfaction = fields.String(
        required=True,
        validate=validate.OneOf(list(SATISFACTION_LABELS), error="请选择满意、基本满意或不满意。"),
        metadata={
            "description": "satisfied 满意，basically_satisfied 基本满意，unsatisfied 不满意（再办理一次）"
        },
    )
    comment = fields.String(
        load_default="",
        validate=[validate.Length(max=500, error="评价意见不能超过 500 个字。"), NO_NUL],
        metadata={"description": "评价意见（可选）"},
    )


class ConsentArgs(ma.Schema):
    template_ids = fields.List(
        fields.String(validate=[validate.Length(min=1, max=64), NO_CONTROL_CHARS]),
        required=True,
        validate=validate.Length(min=1, max=3, error="一次可记录 1 至 3 个订阅消息模板。"),
        metadata={"description": "wx.requestSubscribeMessage 中用户选择“允许”的模板编号"},
    )


class ConsentRecordedSchema(ma.Schema):
    recorded = fields.Integer(required=True, metadata={"description": "记下的授权次数（每次授权可推送一条）"})


class SubscriptionSchema(ma.Schema):
    template_id = fields.String(required=True)
    purpose = fields.String(required=True)
    title = fields.String(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "还可推送的条数"})


class SubscriptionListSchema(ma.Schema):
    items = fields.List(fields.Nested(SubscriptionSchema), required=True)

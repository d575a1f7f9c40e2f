"""Schemas shared by the API's resources: paging, and the public shape of stations and deputies.

Response schemas document what the views return (dicts built by the views); every key is
always present (``required``), and may be ``null`` only where ``allow_none`` says so, so a
client generated from the OpenAPI document can rely on them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.deputies.models import MandateLevel
from app.public.queries import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LEN, STATION_KINDS

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

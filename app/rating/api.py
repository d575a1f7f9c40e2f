"""``GET /api/v1/staff/ratings/<year>/<station_code>``: a station's score sheet as JSON (issue 8 contract)."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.staff.tokens import staff_required
from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import scoped_select
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.rating.service import LEVEL_LABELS, score_sheet
from app.stations.models import Station

RATING_ROLES = frozenset(ADMIN_ROLES) | {Role.STATION_STAFF}

blp = api_blueprint(
    "api_staff_ratings",
    __name__,
    "staff/ratings",
    "星级评定：家站点年度评分表（附件3 各项、满分、得分、自动计分依据、等级）",
)


class RatingItemSchema(Schema):
    key = fields.String(required=True)
    group = fields.String(required=True, metadata={"description": "项目（功能配套、制度建设…）"})
    title = fields.String(required=True)
    max = fields.Float(required=True)
    score = fields.Float(
        required=True, metadata={"description": "得分；评定项未评时为 0（entered 为 false）"}
    )
    auto = fields.Boolean(required=True, metadata={"description": "由系统根据记录自动计分"})
    entered = fields.Boolean(required=True)
    evidence = fields.String(required=True, metadata={"description": "自动项：计分依据；评定项：评分说明"})


class RatingGroupSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    max = fields.Float(required=True)
    score = fields.Float(required=True)


class RatingSheetSchema(Schema):
    station_code = fields.String(required=True)
    station_name = fields.String(required=True)
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(RatingItemSchema), required=True)
    groups = fields.List(fields.Nested(RatingGroupSchema), required=True)
    bonus = fields.Float(required=True, metadata={"description": "加分（限10分）"})
    total = fields.Float(required=True, metadata={"description": "百分制得分 + 加分"})
    level = fields.String(
        required=True, metadata={"description": "none | qualified | 3star | 4star | 5star（按总分）"}
    )
    level_label = fields.String(required=True)
    state = fields.String(
        required=True, metadata={"description": "draft | submitted | recommended | decided"}
    )
    recommended_level = fields.String(required=True, allow_none=True)
    decided_level = fields.String(required=True, allow_none=True)


def sheet_json(user: StaffUser, year: int, station_code: str) -> dict:
    """The score sheet of a station the user sees (404 otherwise; 409 ``not_rated`` for a district 之家)."""
    if user.role_enum not in RATING_ROLES:
        raise Forbidden("您的角色不能查看星级评分表。")
    station = db.session.scalar(scoped_select(Station, user, Station.code == station_code[:16]))
    if station is None:
        raise NotFound("没有这个家站点，或不在您的管辖范围内。")
    view = score_sheet(station, year)
    sheet = view.sheet
    items = [
        {
            "key": e.item.key,
            "group": g.group.name,
            "title": e.item.title,
            "max": e.item.max,
            "score": float(e.score or 0),
            "auto": e.auto,
            "entered": e.auto or e.score is not None,
            "evidence": e.evidence if e.auto else e.note,
        }
        for g in view.groups
        for e in g.items
    ]
    return {
        "station_code": station.code,
        "station_name": station.name,
        "year": year,
        "items": items,
        "groups": [
            {"key": g.group.key, "name": g.group.name, "max": g.group.max, "score": float(g.score)}
            for g in view.groups
        ],
        "bonus": float(view.bonus),
        "total": float(view.total),
        "level": view.level,
        "level_label": LEVEL_LABELS[view.level],
        "state": view.state,
        "recommended_level": sheet.recommended_level if sheet is not None else None,
        "decided_level": sheet.decided_level if sheet is not None else None,
    }


@blp.route("/<int:year>/<string:station_code>")
class StaffRatingSheet(MethodView):
    @staff_required(blp)
    @blp.response(200, RatingSheetSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="您的角色不能查看星级评分表（forbidden）")
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个家站点，或不在您的管辖范围内")
    @blp.alt_response(
        409, schema=ErrorSchema, description="市(县)区级人大代表之家不参与星级评定（not_rated）"
    )
    def get(self, year: int, station_code: str, user: StaffUser):
        """A station's score sheet for the year: every 附件3 item, auto items with their evidence."""
        if not 2000 <= year <= 2100:
            raise NotFound("没有这一年度的评分表。")
        return sheet_json(user, year, station_code)

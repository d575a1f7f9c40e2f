"""``/api/v1/staff``: token, who am I, opinions (list, detail, actions), categories, units,
receptions (create and announce), the outbox (list, resend) and 民意研判 figures (stats, hot words)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from app.analytics.api import HotwordListSchema, HotwordsArgs, StatsArgs, StatsSchema, hotwords_for, stats_for
from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.schemas import TokenSchema
from app.api.staff.opinions import (
    act_on,
    category_list,
    list_opinions,
    opinion_detail,
    unit_list,
    visible_opinion,
)
from app.api.staff.pushes import create_for, list_outbox, reception_out, resend_for
from app.api.staff.schemas import (
    StaffActionArgs,
    StaffCategoryListSchema,
    StaffMeSchema,
    StaffOpinionDetailSchema,
    StaffOpinionListArgs,
    StaffOpinionListSchema,
    StaffOutboxItemSchema,
    StaffOutboxListArgs,
    StaffOutboxListSchema,
    StaffReceptionArgs,
    StaffReceptionSchema,
    StaffTokenArgs,
    StaffUnitListSchema,
)
from app.api.staff.tokens import (
    InvalidCredentials,
    issue_staff_token,
    setting,
    staff_required,
    token_rate_limited,
)
from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.service import authenticate
from app.extensions import db
from app.security.lockout import LoginLocked, ensure_not_locked, register_failure, register_success

blp = api_blueprint(
    "api_staff",
    __name__,
    "staff",
    "工作人员接口：与管理后台相同的账号、管辖范围和办理规则（基层治理平台、脚本使用）",
)


@blp.route("/token")
class StaffToken(MethodView):
    @blp.arguments(StaffTokenArgs)
    @blp.response(200, TokenSchema)
    @blp.alt_response(
        401, schema=ErrorSchema, description="用户名或密码不正确，或账号已停用（invalid_credentials）"
    )
    @token_rate_limited(blp)
    def post(self, data: dict):
        """Trade a staff member's username and password for a bearer token."""
        ensure_not_locked(data["username"])  # the console's lock-out: one count for both doors
        user = authenticate(data["username"], data["password"])
        if user is None:
            db.session.rollback()
            locked = register_failure(data["username"], request.remote_addr or "")
            db.session.commit()  # the count outlives the refusal
            if locked:
                raise LoginLocked(locked)
            raise InvalidCredentials()
        register_success(data["username"])
        db.session.commit()  # last_login_at
        return {
            "token": issue_staff_token(user),
            "token_type": "Bearer",
            "expires_in": int(setting("API_STAFF_TOKEN_MAX_AGE")),
        }


def _scope(user: StaffUser) -> dict:
    role = user.role_enum
    if role in ADMIN_ROLES and user.region is not None:
        return {"kind": "region", "region_code": user.region.code, "region_name": user.region.name}
    if role is Role.STATION_STAFF and user.station is not None:
        return {"kind": "station", "station_code": user.station.code, "station_name": user.station.name}
    if role is Role.UNIT_STAFF and user.unit is not None:
        return {"kind": "unit", "unit_code": user.unit.code, "unit_name": user.unit.name}
    if role is Role.DEPUTY and user.deputy is not None:
        return {"kind": "deputy", "deputy_id": user.deputy.id, "deputy_name": user.deputy.name}
    kinds = {Role.STATION_STAFF: "station", Role.UNIT_STAFF: "unit", Role.DEPUTY: "deputy"}
    return {"kind": kinds.get(role, "region")}


@blp.route("/me")
class StaffMe(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffMeSchema)
    def get(self, user: StaffUser):
        """The account the token names, its role and where it works."""
        return {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "role_label": user.role_label,
            "scope": _scope(user),
        }


@blp.route("/opinions")
class StaffOpinions(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffOpinionListArgs, location="query")
    @blp.response(200, StaffOpinionListSchema)
    def get(self, args: dict, user: StaffUser):
        """The opinions the caller may see, filtered and paged, most urgent first (as the console inbox)."""
        return list_opinions(user, args)


@blp.route("/opinions/<string:tracking_no>")
class StaffOpinion(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffOpinionDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这条留言，或不在您的管辖范围内")
    def get(self, tracking_no: str, user: StaffUser):
        """One opinion: content, masked contact, timeline and the actions the caller may take now."""
        return opinion_detail(visible_opinion(user, tracking_no), user)


@blp.route("/opinions/<string:tracking_no>/actions")
class StaffOpinionActions(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffActionArgs)
    @blp.response(200, StaffOpinionDetailSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="您的角色不能执行该操作（forbidden）")
    @blp.alt_response(404, schema=ErrorSchema, description="没有这条留言，或不在您的管辖范围内")
    @blp.alt_response(409, schema=ErrorSchema, description="留言当前的状态不允许该操作（illegal_transition）")
    def post(self, data: dict, tracking_no: str, user: StaffUser):
        """Take one step of the closed loop (the console's rules and audit); answers with the opinion."""
        action = data.pop("action")
        opinion = act_on(user, tracking_no, action, data)
        db.session.commit()
        return opinion_detail(opinion, user)


@blp.route("/categories")
class StaffCategories(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffCategoryListSchema)
    def get(self, user: StaffUser):
        """The managed categories classify accepts, with their reply deadlines in working days."""
        return {"items": category_list()}


@blp.route("/units")
class StaffUnits(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffUnitListSchema)
    def get(self, user: StaffUser):
        """The handling units the caller may assign to (none for roles that do not assign)."""
        return {"items": unit_list(user)}


# --- receptions and the outbox (issue 7) ----------------------------------------------------


@blp.route("/receptions")
class StaffReceptions(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffReceptionArgs)
    @blp.response(201, StaffReceptionSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="不能安排接待活动（forbidden）")
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个家站点，或不在您的管辖范围内")
    @blp.alt_response(409, schema=ErrorSchema, description="该站当月已有代表联系服务群众日")
    def post(self, data: dict, user: StaffUser):
        """Plan a reception; ``announce`` publishes it and queues 公告接待时间 to willing followers."""
        reception = create_for(user, data)
        db.session.commit()
        return reception_out(reception)


@blp.route("/outbox")
class StaffOutbox(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffOutboxListArgs, location="query")
    @blp.response(200, StaffOutboxListSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="只有市级管理员可以查看推送记录（forbidden）")
    def get(self, args: dict, user: StaffUser):
        """The outbox, newest first, filtered and paged, with counts per status (city admins only)."""
        return list_outbox(user, args)


@blp.route("/outbox/<int:row_id>/resend")
class StaffOutboxResend(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffOutboxItemSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="只有市级管理员可以重发推送（forbidden）")
    @blp.alt_response(404, schema=ErrorSchema, description="没有这条推送记录")
    @blp.alt_response(409, schema=ErrorSchema, description="只能重发发送失败、无法送达或待核实的推送")
    def post(self, row_id: int, user: StaffUser):
        """Queue a dead, undeliverable or review (待核实) push again (pending, attempts reset); audited."""
        item = resend_for(user, row_id)
        db.session.commit()
        return item


# --- 民意研判 (issue 9): figures and hot words, scoped to the caller ---------------------------


@blp.route("/stats")
class StaffStats(MethodView):
    @staff_required(blp)
    @blp.arguments(StatsArgs, location="query")
    @blp.response(200, StatsSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个区域或家站点，或不在您的管辖范围内")
    def get(self, args: dict, user: StaffUser):
        """Opinion KPIs of the period (by submission date) for what the caller may see; rates 0–1 or null."""
        return stats_for(user, args)


@blp.route("/stats/hotwords")
class StaffStatsHotwords(MethodView):
    @staff_required(blp)
    @blp.arguments(HotwordsArgs, location="query")
    @blp.response(200, HotwordListSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这个区域或家站点，或不在您的管辖范围内")
    def get(self, args: dict, user: StaffUser):
        """Hot words of the period's opinions, most frequent first; change against the previous period."""
        return hotwords_for(user, args)

"""The JSON API under ``/api/v1``: flask-smorest generates its OpenAPI 3 document from the code.

Each resource is a module with one blueprint made by ``api_blueprint`` (which gives it the
API's error shape) and is listed in ``_blueprints``. API clients authenticate with tokens,
not cookies, so the blueprints are exempt from the console's CSRF check.
"""

from __future__ import annotations

from flask import Flask

from app.api.base import API_PREFIX, JiazhandianApi
from app.extensions import csrf

API_CONFIG = {
    "API_TITLE": "家站点 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": API_PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    # No Swagger UI / ReDoc / RapiDoc paths: they would load scripts from a CDN.
}
SPEC_INFO = {
    "description": "无锡市人大代表“家站点”的公开接口（小程序使用）：站点和编入的代表、附近的站点、"
    "值班和接待活动、预约、意见建议及办理进度、订阅消息授权。"
    "群众用 wx.login 的 code 调用 POST /api/v1/auth/login 换取令牌，之后的请求带上 "
    "Authorization: Bearer <token>。"
    "工作人员接口在 /api/v1/staff 下：POST /api/v1/staff/token 用管理后台的用户名和密码换取令牌，"
    "账号、管辖范围和办理规则与管理后台相同。"
    '错误一律为 {"error": {"code", "message"}}，并带相应的 HTTP 状态码；'
    "校验失败（422）时另有 fields：字段名 → 错误说明。"
}


def _blueprints() -> list:
    from app.api.auth import blp as auth
    from app.api.bookings import blp as bookings
    from app.api.opinions import blp as opinions
    from app.api.receptions import blp as receptions
    from app.api.staff.views import blp as staff
    from app.api.stations import blp as stations
    from app.api.subscriptions import blp as subscriptions
    from app.rating.api import blp as staff_ratings

    return [auth, stations, receptions, bookings, opinions, subscriptions, staff, staff_ratings]


def _document_components(api: JiazhandianApi) -> None:
    """What the views cannot document through flask-smorest's decorators."""
    from app.api.residents import BEARER_SCHEME
    from app.api.schemas import OpinionArgs, OpinionUploadSchema
    from app.api.staff.tokens import STAFF_BEARER_SCHEME

    api.spec.components.security_scheme(
        BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /api/v1/auth/login 换得的令牌：Authorization: Bearer <token>",
        },
    )
    api.spec.components.security_scheme(
        STAFF_BEARER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "工作人员用 POST /api/v1/staff/token（用户名、密码）换得的令牌："
            "Authorization: Bearer <token>",
        },
    )
    # The opinion body comes as JSON or as multipart/form-data with photos.
    api.spec.components.schema("OpinionCreate", schema=OpinionArgs)
    api.spec.components.schema("OpinionUpload", schema=OpinionUploadSchema)


def init_api(app: Flask) -> None:
    """Mount every API blueprint and serve the OpenAPI document at /api/v1/openapi.json."""
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    # One Api per app: flask-smorest keeps its spec on the instance, and tests build many apps.
    api = JiazhandianApi(app, spec_kwargs={"info": SPEC_INFO})
    _document_components(api)
    for blp in _blueprints():
        csrf.exempt(blp)
        api.register_blueprint(blp)

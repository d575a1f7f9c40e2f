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
    "description": "无锡市人大代表“家站点”的公开接口：站点和编入的代表。"
    '错误一律为 {"error": {"code", "message"}}，并带相应的 HTTP 状态码。'
}


def _blueprints() -> list:
    from app.api.stations import blp as stations

    return [stations]


def init_api(app: Flask) -> None:
    """Mount every API blueprint and serve the OpenAPI document at /api/v1/openapi.json."""
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    # One Api per app: flask-smorest keeps its spec on the instance, and tests build many apps.
    api = JiazhandianApi(app, spec_kwargs={"info": SPEC_INFO})
    for blp in _blueprints():
        csrf.exempt(blp)
        api.register_blueprint(blp)

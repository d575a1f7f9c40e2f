"""Who calls the mini-program API: a resident signed in with ``wx.login``, and their limits.

``POST /api/v1/auth/login`` trades the ``wx.login`` code for the resident's openid
(``jscode2session``) and answers with our own token: the openid and its kind, signed with
``SECRET_KEY`` under a salt of its own, valid ``API_TOKEN_MAX_AGE`` seconds. WeChat's
``session_key`` is dropped on the spot: nothing in the API needs it, so it is never stored
and never sent. Later calls carry ``Authorization: Bearer <token>``; ``resident_required``
checks it for every resident endpoint, and ``rate_limited`` counts per resident and per
client address.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ClassVar

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.api.errors import ErrorSchema
from app.errors import DomainError, Forbidden
from app.extensions import limiter
from app.wechat.client import WeChatApiError, mini_program

TOKEN_SALT = "jzd-api-resident-token"  # noqa: S105 - a salt, not a secret (SECRET_KEY signs)
TOKEN_KIND = "miniapp"  # noqa: S105 - the kind of resident the token names
BEARER_SCHEME = "bearerAuth"
SECURITY = [{BEARER_SCHEME: []}]
OPENID_MAX = 64
# jscode2session: 40029 invalid code, 40163 code already used, 41008 missing code.
CODE_REFUSED = (40029, 40163, 41008)
CODE_HIGH_RISK = 40226  # WeChat blocks this account's logins (高风险用户)

# Overridable in the app config; the per-address limits are loose on purpose, because a
# whole village or a mobile carrier's NAT can share one address.
DEFAULTS = {
    "API_TOKEN_MAX_AGE": 7 * 24 * 3600,
    "API_LIMIT_BOOKING_RESIDENT": "10/minute;40/day",
    "API_LIMIT_BOOKING_ADDRESS": "120/minute",
    "API_LIMIT_OPINION_RESIDENT": "5/minute;30/day",
    "API_LIMIT_OPINION_ADDRESS": "60/minute",
}


class Unauthorized(DomainError):
    """No valid resident token: sign in again with ``wx.login``."""

    status = 401
    code = "unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="jiazhandian"'}

    def __init__(self, message: str = "请先登录。", **kw):
        super().__init__(message, **kw)


class LoginRefused(Unauthorized):
    """WeChat refused the ``wx.login`` code (invalid, already used or missing)."""

    code = "invalid_code"


class WeChatUnavailable(DomainError):
    status = 503
    code = "wechat_unavailable"

    def __init__(self) -> None:
        super().__init__("微信登录服务暂时不可用，请稍后再试。")


def setting(name: str):
    """A value of the API's configuration, falling back to ``DEFAULTS``."""
    return current_app.config.get(name) or DEFAULTS[name]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(openid: str) -> str:
    """Our signed token for a mini-program resident (never WeChat's session key)."""
    return _serializer().dumps({"k": TOKEN_KIND, "o": openid})


def openid_of_token(token: str) -> str:
    """The openid a token was issued for; ``Unauthorized`` when forged, foreign or expired."""
    try:
        data = _serializer().loads(token, max_age=int(setting("API_TOKEN_MAX_AGE")))
    except SignatureExpired:
        raise Unauthorized("登录已过期，请重新登录。") from None
    except BadSignature:
        raise Unauthorized("登录凭证无效，请重新登录。") from None
    if not isinstance(data, dict):
        raise Unauthorized("登录凭证无效，请重新登录。")
    openid = data.get("o")
    if data.get("k") != TOKEN_KIND or not isinstance(openid, str) or not 0 < len(openid) <= OPENID_MAX:
        raise Unauthorized("登录凭证无效，请重新登录。")
    return openid


def login_with_code(code: str) -> str:
    """The openid WeChat's ``jscode2session`` gives for a ``wx.login`` code; the session key stays here."""
    try:
        session = mini_program().code_to_session(code)
    except WeChatApiError as exc:
        if exc.errcode in CODE_REFUSED:
            raise LoginRefused("登录凭证无效或已使用，请重新调用 wx.login 后再登录。") from None
        if exc.errcode == CODE_HIGH_RISK:
            raise Forbidden("微信判定该账号存在风险，暂不能登录。", code="login_blocked") from None
        current_app.logger.warning("jscode2session failed: %s", exc)
        raise WeChatUnavailable() from None
    openid = session.get("openid")
    if not isinstance(openid, str) or not 0 < len(openid) <= OPENID_MAX:
        current_app.logger.warning("jscode2session answered without a usable openid")
        raise WeChatUnavailable()
    return openid


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def resident_required(blp: Blueprint) -> Callable:
    """Decorate a resident endpoint: 401 without a valid token; the view gets ``resident`` (openid).

    Also documents the bearer security scheme and the 401 answer in the OpenAPI document.
    Put it above the other decorators so the token is checked first.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.api_resident = openid_of_token(_bearer_token())
            return view(*args, resident=g.api_resident, **kwargs)

        documented = blp.doc(security=SECURITY)(wrapper)
        return blp.alt_response(401, schema=ErrorSchema, description="未登录，或登录凭证无效、已过期")(
            documented
        )

    return decorator


def _resident_key() -> str:
    # Set by resident_required, which runs before the limit is checked.
    return "resident:" + g.api_resident


def rate_limited(blp: Blueprint, kind: str) -> Callable:
    """Per-resident and per-address limits (``API_LIMIT_<KIND>_RESIDENT`` / ``_ADDRESS``); 429 beyond.

    Put it below ``resident_required``: the resident's bucket needs the checked token.
    """
    per_resident = f"API_LIMIT_{kind.upper()}_RESIDENT"
    per_address = f"API_LIMIT_{kind.upper()}_ADDRESS"

    def decorator(view: Callable) -> Callable:
        limited = limiter.limit(lambda: setting(per_resident), key_func=_resident_key)(view)
        limited = limiter.limit(lambda: setting(per_address), key_func=get_remote_address)(limited)
        return blp.alt_response(429, schema=ErrorSchema, description="操作过于频繁，请稍后再试")(limited)

    return decorator

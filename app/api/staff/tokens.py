"""Staff bearer tokens: who calls the staff API, checked against the account on every call.

``POST /api/v1/staff/token`` checks username and password through ``authenticate`` (the
console's own login rule: unknown, wrong and deactivated all fail alike) and answers with
the account's id, signed with ``SECRET_KEY`` under a salt and kind of its own, so a
mini-program resident token is never a staff token and the other way round. The token also
carries a keyed digest of the password hash: changing the password ends every token issued
before. ``staff_required`` loads the account on each call, so a deactivated user is refused
at once, not when the token expires.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.api.errors import ErrorSchema
from app.api.residents import Unauthorized
from app.auth.models import StaffUser
from app.extensions import db, limiter

TOKEN_SALT = "jzd-api-staff-token"  # noqa: S105 - a salt, not a secret (SECRET_KEY signs)
TOKEN_KIND = "staff"  # noqa: S105 - the kind of caller the token names
STAFF_BEARER_SCHEME = "staffBearerAuth"
STAFF_SECURITY = [{STAFF_BEARER_SCHEME: []}]
USERNAME_MAX = 64
ID_MAX = 2**31 - 1  # an integer column: a larger id would make PostgreSQL refuse the query
# One message whatever was wrong: the answer must not tell which usernames exist.
LOGIN_FAILED = "用户名或密码不正确，或账号已停用。"

# Overridable in the app config. A token is a staff member's full power over their scope:
# it lives a working day, not a week like a resident's.
DEFAULTS = {
    "API_STAFF_TOKEN_MAX_AGE": 12 * 3600,
    "API_LIMIT_STAFF_TOKEN": "10/minute",  # per client address and username
    "API_LIMIT_STAFF_TOKEN_ADDRESS": "60/minute",  # per client address, whatever the username
}


class InvalidCredentials(Unauthorized):
    """Username and password do not name an active staff account."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED)


def setting(name: str):
    """A value of the staff API's configuration, falling back to ``DEFAULTS``."""
    return current_app.config.get(name) or DEFAULTS[name]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _password_stamp(user: StaffUser) -> str:
    # Keyed, so the readable token payload says nothing about the password hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def issue_staff_token(user: StaffUser) -> str:
    """A signed bearer token naming this staff account (and its current password)."""
    return _serializer().dumps({"k": TOKEN_KIND, "u": user.id, "p": _password_stamp(user)})


def staff_of_token(token: str) -> StaffUser:
    """The active account a token names; ``Unauthorized`` when forged, foreign, expired or stale."""
    invalid = "登录凭证无效，请重新获取令牌。"
    try:
        data = _serializer().loads(token, max_age=int(setting("API_STAFF_TOKEN_MAX_AGE")))
    except SignatureExpired:
        raise Unauthorized("登录凭证已过期，请重新获取令牌。") from None
    except BadSignature:
        raise Unauthorized(invalid) from None
    if not isinstance(data, dict) or data.get("k") != TOKEN_KIND:
        raise Unauthorized(invalid)
    user_id = data.get("u")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id <= ID_MAX:
        raise Unauthorized(invalid)
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active:
        raise Unauthorized("账号不存在或已停用。")
    if not hmac.compare_digest(str(data.get("p", "")), _password_stamp(user)):
        raise Unauthorized("密码已修改，请重新获取令牌。")
    return user


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先获取令牌：POST /api/v1/staff/token。")
    return token.strip()


def staff_required(blp: Blueprint) -> Callable:
    """Decorate a staff endpoint: 401 without a valid staff token; the view gets ``user``.

    Also documents the staff bearer scheme and the 401 answer. Put it above the other
    decorators so the token is checked before anything else is read.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.api_staff = staff_of_token(_bearer_token())
            return view(*args, user=g.api_staff, **kwargs)

        documented = blp.doc(security=STAFF_SECURITY)(wrapper)
        return blp.alt_response(
            401, schema=ErrorSchema, description="没有令牌，或令牌无效、已过期，或账号已停用"
        )(documented)

    return decorator


def _address_and_username() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else ""
    name = str(username or "").strip().lower()[:USERNAME_MAX]
    return f"staff-token:{get_remote_address()}:{name}"


def _address() -> str:
    return "staff-token:" + get_remote_address()


def token_rate_limited(blp: Blueprint) -> Callable:
    """Password guessing is throttled per address and username, and per address; 429 beyond."""

    def decorator(view: Callable) -> Callable:
        limited = limiter.limit(lambda: setting("API_LIMIT_STAFF_TOKEN"), key_func=_address_and_username)(
            view
        )
        limited = limiter.limit(lambda: setting("API_LIMIT_STAFF_TOKEN_ADDRESS"), key_func=_address)(limited)
        described = "尝试过于频繁（too_many_requests），或该用户名登录失败过多、暂时锁定（login_locked）"
        return blp.alt_response(429, schema=ErrorSchema, description=described)(limited)

    return decorator

"""Who is this resident? For the H5 pages under ``/s/`` and ``/t/``.

Inside WeChat (User-Agent ``MicroMessenger``) the first visit goes through snsapi_base OAuth
(silent, no consent screen) and comes back with the resident's openid, the same one the
official account sees; outside WeChat the resident gets a signed anonymous identity. Either
is remembered in a signed cookie, so "我的留言" works across visits.

Use it on a public view::

    from app.wechat.oauth import current_resident, with_resident

    @bp.get("/s/<code>")
    @with_resident
    def station_page(code):
        resident = current_resident()   # resident.id → Opinion.resident_id
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from flask import current_app, make_response, redirect, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app.wechat.client import WeChatApiError, official_account

COOKIE = "jzd_resident"
COOKIE_MAX_AGE = 365 * 24 * 3600
STATE_MAX_AGE = 600
OAUTH_PARAMS = ("code", "state")
ENVIRON_KEY = "jzd.resident_identity"


@dataclass(frozen=True)
class Resident:
    """A resident as the H5 pages know them: a WeChat openid or a signed anonymous id."""

    id: str
    kind: str  # "wechat" or "anonymous"

    @property
    def is_wechat(self) -> bool:
        return self.kind == "wechat"


def _cookie_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="jzd-resident")


def _state_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="jzd-oauth-state")


def in_wechat() -> bool:
    """The request comes from WeChat's built-in browser (not WeCom, whose OAuth differs)."""
    agent = request.headers.get("User-Agent", "")
    return "MicroMessenger" in agent and "wxwork" not in agent


def _from_cookie() -> Resident | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _cookie_signer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in ("wechat", "anonymous") or not data.get("id"):
        return None
    return Resident(id=str(data["id"])[:64], kind=data["k"])


def _anonymous() -> Resident:
    return Resident(id="anon-" + secrets.token_urlsafe(16), kind="anonymous")


def _here(drop_oauth: bool = True) -> str:
    """This page's public URL (what WeChat redirects back to), without the OAuth parameters."""
    args = [(k, v) for k, v in request.args.items(multi=True) if not (drop_oauth and k in OAUTH_PARAMS)]
    query = ("?" + urlencode(args)) if args else ""
    return current_app.config["PUBLIC_BASE_URL"] + request.path + query


def _remember(response, resident: Resident) -> None:
    response.set_cookie(
        COOKIE,
        _cookie_signer().dumps({"id": resident.id, "k": resident.kind}),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def _back_from_wechat() -> Resident:
    """The resident WeChat's OAuth redirect vouches for, or an anonymous one if it fails."""
    try:
        _state_signer().loads(request.args.get("state", ""), max_age=STATE_MAX_AGE)
        return Resident(id=official_account().oauth_openid(request.args["code"]), kind="wechat")
    except (BadSignature, SignatureExpired):
        current_app.logger.info("oauth: stale or forged state on %s", request.path)
    except WeChatApiError as exc:
        current_app.logger.warning("oauth: code exchange failed: %s", exc)
    return _anonymous()


def identify():
    """``(resident, redirect, new)``: who this is, or the redirect the browser must follow first.

    ``new`` says the resident was not in the cookie yet and must be remembered. Worked out
    once per request (a WeChat OAuth code can be exchanged only once), then reused.
    """
    # Kept in the WSGI environ, which belongs to this one request (``g`` may outlive it in tests).
    if ENVIRON_KEY not in request.environ:
        request.environ[ENVIRON_KEY] = _identify()
    return request.environ[ENVIRON_KEY]


def _identify():
    known = _from_cookie()
    if known is not None:
        return known, None, False
    if in_wechat() and request.method in ("GET", "HEAD"):
        if request.args.get("code") and request.args.get("state"):
            resident = _back_from_wechat()
            response = redirect(_here())
            _remember(response, resident)
            return resident, response, True
        state = _state_signer().dumps("oauth")
        return None, redirect(official_account().oauth_authorize_url(_here(), state)), False
    return _anonymous(), None, True


def with_resident(view):
    """Decorate a public view: ``current_resident()`` is known inside, the cookie set after."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        resident, early, new = identify()
        if early is not None:
            return early
        response = make_response(view(*args, **kwargs))
        if new:
            _remember(response, resident)
        return response

    return wrapper


def current_resident() -> Resident:
    """The resident of this request: the one ``with_resident`` identified (the cookie's, or new)."""
    resident, _redirect, _new = identify()
    if resident is None:  # only when a WeChat browser must first go through OAuth
        raise RuntimeError("current_resident() before the OAuth redirect: decorate the view with_resident")
    return resident

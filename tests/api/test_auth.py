"""``POST /api/v1/auth/login`` and the bearer token every resident endpoint checks."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.api.residents import TOKEN_SALT, openid_of_token
from app.wechat.mock import Fault, openid_for
from app.wechat.oauth import _cookie_signer

RESIDENT_ENDPOINTS = [
    ("get", "/api/v1/bookings/mine"),
    ("post", "/api/v1/bookings"),
    ("delete", "/api/v1/bookings/ABCDEFGH"),
    ("get", "/api/v1/opinions/mine"),
    ("post", "/api/v1/opinions"),
    ("get", "/api/v1/opinions/ABCDEFGHJKMN"),
    ("get", "/api/v1/subscriptions"),
    ("post", "/api/v1/subscriptions"),
]


def _login(client, code):
    return client.post("/api/v1/auth/login", json={"code": code})


def test_login_gives_our_token_and_never_the_session_key(app, client, mock_api):
    response = _login(client, "wx-code-1")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7 * 24 * 3600
    assert "session_key" not in response.get_data(as_text=True)
    # jscode2session was asked with the mini-program's own appid and the code.
    (call,) = mock_api.requests("/sns/jscode2session")
    assert call["query"]["js_code"] == "wx-code-1"
    assert call["query"]["appid"] == app.config["MINIAPP_APPID"]
    with app.test_request_context():
        assert openid_of_token(body["token"]) == openid_for(app.config["MINIAPP_APPID"], "wx-code-1")


def test_each_code_is_its_own_resident(app, client):
    with app.test_request_context():
        first = openid_of_token(_login(client, "code-a").get_json()["token"])
        again = openid_of_token(_login(client, "code-a").get_json()["token"])
        other = openid_of_token(_login(client, "code-b").get_json()["token"])
    assert first == again != other


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "x" * 129}, {"code": "a\x00b"}, {"code": 5}])
def test_bad_login_body_is_422(client, body):
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "code" in error["fields"]


def test_login_body_must_be_json(client):
    response = client.post("/api/v1/auth/login", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("errcode", "status", "code"),
    [
        (40029, 401, "invalid_code"),  # invalid code
        (40163, 401, "invalid_code"),  # code been used
        (40226, 403, "login_blocked"),  # high-risk user
        (-1, 503, "wechat_unavailable"),  # system busy
        (45011, 503, "wechat_unavailable"),  # API minute-quota reached
    ],
)
def test_wechat_refusals_in_our_shape(client, mock_api, errcode, status, code):
    mock_api.add_fault(Fault("/sns/jscode2session", 1, errcode=errcode))
    response = _login(client, "used-code")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and "errcode" not in error["message"]
    assert "token" not in response.get_json()


def test_wechat_unreachable_is_503(app, client, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_HTTP_TIMEOUT", (0.2, 0.2))
    app.extensions.pop("wechat_clients", None)
    mock_api.add_fault(Fault("/sns/jscode2session", 1, delay_s=0.5))
    try:
        response = _login(client, "slow-code")
    finally:
        app.extensions.pop("wechat_clients", None)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "wechat_unavailable"


@pytest.mark.parametrize(("method", "path"), RESIDENT_ENDPOINTS)
def test_resident_endpoints_need_a_token(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "unauthorized", "message": "请先登录。"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def _expired_token(app, openid: str) -> str:
    with app.test_request_context():
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT)
        signer = serializer.make_signer(TOKEN_SALT)
        payload = serializer.dump_payload({"k": "miniapp", "o": openid})
        # A token signed eight days ago (itsdangerous reads the time from the signer).
        signer.get_timestamp = lambda: int(time.time()) - 8 * 24 * 3600
        return signer.sign(payload).decode()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token",
        "Bearer eyJrIjoibWluaWFwcCIsIm8iOiJvWCJ9.forged.signature",
        "Token abc",
    ],
)
def test_bad_tokens_are_401(client, header):
    response = client.get("/api/v1/bookings/mine", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_expired_token_is_401_with_a_clear_message(app, client):
    token = _expired_token(app, "oExpired0000000000000000000")
    response = client.get("/api/v1/bookings/mine", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "unauthorized", "message": "登录已过期，请重新登录。"}


def test_tokens_of_other_purposes_are_refused(app, client):
    """The H5 resident cookie and a token signed with another key are no API tokens."""
    with app.test_request_context():
        cookie = _cookie_signer().dumps({"id": "oSomeone", "k": "wechat"})
        foreign = URLSafeTimedSerializer("another-secret-key-0123456789", salt=TOKEN_SALT).dumps(
            {"k": "miniapp", "o": "oSomeone"}
        )
        wrong_kind = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).dumps(
            {"k": "staff", "o": "oSomeone"}
        )
        not_a_mapping = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).dumps(["oSomeone"])
    for token in (cookie, foreign, wrong_kind, not_a_mapping):
        response = client.get("/api/v1/opinions/mine", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def test_a_valid_token_opens_the_resident_endpoints(client, sign_in):
    headers = sign_in()
    response = client.get("/api/v1/bookings/mine", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0}
    # The scheme is case-insensitive (RFC 7235).
    lower = {"Authorization": headers["Authorization"].replace("Bearer", "bearer")}
    assert client.get("/api/v1/opinions/mine", headers=lower).status_code == 200

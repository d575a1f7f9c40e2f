"""``POST /api/v1/staff/token``, the staff bearer token every staff call re-checks, and ``/me``."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.api.residents import TOKEN_SALT as RESIDENT_SALT
from app.api.staff.tokens import LOGIN_FAILED, TOKEN_SALT, issue_staff_token
from app.extensions import db
from tests.api.conftest import next_address
from tests.api.staff_world import staff_token_fixture, staff_world_fixture  # noqa: F401
from tests.factories import PASSWORD

STAFF_ENDPOINTS = [
    ("get", "/api/v1/staff/me"),
    ("get", "/api/v1/staff/opinions"),
    ("get", "/api/v1/staff/opinions/ABCDEFGHJKMN"),
    ("post", "/api/v1/staff/opinions/ABCDEFGHJKMN/actions"),
    ("get", "/api/v1/staff/categories"),
    ("get", "/api/v1/staff/units"),
]


def _token(client, username, password):
    return client.post("/api/v1/staff/token", json={"username": username, "password": password})


def _call(client, method, path, headers):
    if method == "post":
        return client.post(path, json={"action": "accept"}, headers=headers)
    return client.get(path, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_flow(app, client, staff_world):
    user = staff_world.users["station"]
    response = _token(client, user.username, PASSWORD)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 12 * 3600
    assert PASSWORD not in response.get_data(as_text=True)
    me = client.get("/api/v1/staff/me", headers=_bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["username"] == user.username
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_username_is_trimmed_as_in_the_console(client, staff_world):
    user = staff_world.users["town"]
    assert _token(client, f"  {user.username} ", PASSWORD).status_code == 200


@pytest.mark.parametrize("case", ["unknown", "wrong_password", "inactive", "empty_password_match"])
def test_bad_credentials_are_one_generic_401(client, staff_world, case):
    user = staff_world.users["district"]
    username, password = user.username, PASSWORD
    if case == "unknown":
        username = "nobody-here"
    elif case == "wrong_password":
        password = "not-the-password"
    elif case == "inactive":
        user.active = False
        db.session.commit()
    else:
        password = PASSWORD + " "
    response = _token(client, username, password)
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "invalid_credentials", "message": LOGIN_FAILED}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"password": "x"},
        {"username": "", "password": "x"},
        {"username": "x" * 65, "password": "x"},
        {"username": "a\x00b", "password": "x"},
        {"username": 5, "password": "x"},
        {"username": "x", "password": "p" * 129},
        {"username": "x", "password": "y", "extra": 1},
    ],
)
def test_bad_token_body_is_422(client, body):
    response = client.post("/api/v1/staff/token", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"


def test_not_json_is_refused_in_our_shape(client):
    response = client.post("/api/v1/staff/token", data="username=a&password=b")
    assert response.status_code in (415, 422)
    assert "error" in response.get_json()


@pytest.fixture
def tight(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_LIMIT_STAFF_TOKEN", "3/minute")
    monkeypatch.setitem(app.config, "API_LIMIT_STAFF_TOKEN_ADDRESS", "6/minute")


def test_password_guessing_is_throttled_per_address_and_username(client, staff_world, tight):
    user = staff_world.users["city"]
    statuses = [_token(client, user.username, f"guess-{i}").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = _token(client, user.username, PASSWORD)
    assert response.status_code == 429  # even the right password waits: a flood is a flood
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) > 0
    # Someone else from the same office address is not held back by this username's flood.
    other = staff_world.users["station"]
    assert _token(client, other.username, PASSWORD).status_code == 200
    # And the same username from another address is fine again.
    client.environ_base["REMOTE_ADDR"] = next_address()
    assert _token(client, user.username, PASSWORD).status_code == 200


def test_spraying_usernames_from_one_address_is_throttled(client, staff_world, tight):
    statuses = [_token(client, f"guess{i}", "password").status_code for i in range(7)]
    assert statuses == [401] * 6 + [429]


@pytest.mark.parametrize(("method", "path"), STAFF_ENDPOINTS)
def test_every_staff_endpoint_needs_a_token(client, method, path):
    response = _call(client, method, path, {})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "Bearer a.b.c", "Token abc"],
)
def test_malformed_authorization_is_401(client, header):
    response = client.get("/api/v1/staff/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def _signed(app, payload, *, salt=TOKEN_SALT, key=None, age=0) -> str:
    with app.test_request_context():
        serializer = URLSafeTimedSerializer(key or app.config["SECRET_KEY"], salt=salt)
        signer = serializer.make_signer(salt)
        signer.get_timestamp = lambda: int(time.time()) - age
        return signer.sign(serializer.dump_payload(payload)).decode()


def test_tokens_of_other_kinds_and_keys_are_refused(app, client, staff_world, sign_in):
    user = staff_world.users["city"]
    with app.test_request_context():
        good = issue_staff_token(user)
    stamp = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).loads(good)["p"]
    refused = [
        # A resident's mini-program token.
        sign_in("resident")["Authorization"].split(" ", 1)[1],
        # Our payload under the resident salt, under another key, or of another kind.
        _signed(app, {"k": "staff", "u": user.id, "p": stamp}, salt=RESIDENT_SALT),
        _signed(app, {"k": "staff", "u": user.id, "p": stamp}, key="another-secret-key-0123456789"),
        _signed(app, {"k": "miniapp", "u": user.id, "p": stamp}),
        _signed(app, {"k": "staff", "u": str(user.id), "p": stamp}),
        _signed(app, {"k": "staff", "u": True, "p": stamp}),
        _signed(app, {"k": "staff", "u": user.id, "p": "0" * 16}),
        _signed(app, {"k": "staff", "u": 2**40, "p": stamp}),
        _signed(app, ["staff", user.id]),
    ]
    for token in refused:
        response = client.get("/api/v1/staff/me", headers=_bearer(token))
        assert response.status_code == 401, token
    assert client.get("/api/v1/staff/me", headers=_bearer(good)).status_code == 200
    # And the staff token is no resident token either.
    assert client.get("/api/v1/opinions/mine", headers=_bearer(good)).status_code == 401


def test_expired_token_is_401(app, client, staff_world):
    user = staff_world.users["city"]
    with app.test_request_context():
        stamp = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).loads(
            issue_staff_token(user)
        )["p"]
    token = _signed(app, {"k": "staff", "u": user.id, "p": stamp}, age=13 * 3600)
    response = client.get("/api/v1/staff/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"] == {
        "code": "unauthorized",
        "message": "登录凭证已过期，请重新获取令牌。",
    }


def test_token_lifetime_is_configurable(app, client, staff_world, monkeypatch):
    monkeypatch.setitem(app.config, "API_STAFF_TOKEN_MAX_AGE", 60)
    user = staff_world.users["city"]
    assert _token(client, user.username, PASSWORD).get_json()["expires_in"] == 60


def test_a_deactivated_account_loses_its_token_at_once(client, staff_world, staff_token):
    user = staff_world.users["unit"]
    headers = staff_token(user)
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 200
    user.active = False
    db.session.commit()
    response = client.get("/api/v1/staff/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    user.active = True
    db.session.commit()
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 200


def test_a_new_password_ends_older_tokens(client, staff_world, staff_token):
    user = staff_world.users["station"]
    headers = staff_token(user)
    user.set_password("a-brand-new-pass-9")
    db.session.commit()
    response = client.get("/api/v1/staff/me", headers=headers)
    assert response.status_code == 401
    assert client.get("/api/v1/staff/me", headers=staff_token(user, "a-brand-new-pass-9")).status_code == 200


def test_me_for_every_role(client, staff_world, staff_token):
    w = staff_world
    expected = {
        "city": ("city_admin", {"kind": "region", "region_code": w.tree["city"].code}),
        "district": ("district_admin", {"kind": "region", "region_code": w.tree["district_a"].code}),
        "town": ("town_admin", {"kind": "region", "region_code": w.tree["town_a"].code}),
        "station": ("station_staff", {"kind": "station", "station_code": w.station.code}),
        "unit": ("unit_staff", {"kind": "unit", "unit_code": w.unit.code}),
        "deputy": ("deputy", {"kind": "deputy", "deputy_id": w.deputy.id}),
    }
    names = {
        "city": ("region_name", w.tree["city"].name),
        "district": ("region_name", w.tree["district_a"].name),
        "town": ("region_name", w.tree["town_a"].name),
        "station": ("station_name", w.station.name),
        "unit": ("unit_name", w.unit.name),
        "deputy": ("deputy_name", w.deputy.name),
    }
    for key, (role, scope) in expected.items():
        user = w.users[key]
        body = client.get("/api/v1/staff/me", headers=staff_token(user)).get_json()
        assert body["username"] == user.username
        assert body["role"] == role
        assert body["role_label"] == user.role_label
        name_key, name = names[key]
        assert body["scope"] == {**scope, name_key: name}, key

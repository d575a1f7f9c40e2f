"""Sign-in: cookies' flags, lock-out after failures (Redis or database), the password policy."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.auth.service import change_own_password, create_user, update_user
from app.errors import ValidationFailed
from app.extensions import db
from app.notify.models import AuditEntry
from app.security import lockout
from app.security.passwords import check_password_policy
from tests.factories import PASSWORD

LOCKED_TEXT = "登录失败次数过多"


@pytest.fixture(params=["db", "redis"])
def backend(request, app, monkeypatch):
    """Run a lock-out test on each backend: the database table, and Redis when configured."""
    if request.param == "redis":
        import redis as redis_lib

        url = request.getfixturevalue("redis_url")
        client = redis_lib.Redis.from_url(url)
        monkeypatch.setitem(app.extensions, "redis", client)
        # Redis is not rolled back with the test: start and end without our keys.
        request.addfinalizer(lambda: _forget(client))
        _forget(client)
    else:
        monkeypatch.setitem(app.extensions, "redis", None)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_SECONDS", 60)
    return request.param


def _forget(client) -> None:
    for key in client.scan_iter("jzd:login-*"):
        client.delete(key)


def _post(client, username, password):
    return client.post("/console/login", data={"username": username, "password": password})


def test_cookies_are_secure_httponly_lax(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    response = client.post(
        "/console/login",
        data={"username": world["city"].username, "password": PASSWORD, "remember": "on"},
        base_url="https://jzd.test",
    )
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        flags = cookies[name].lower()
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, cookies[name]
    # The resident's identity cookie on the public pages too.
    page = client.get(f"/s/{world['station'].code}", base_url="https://jzd.test")
    resident = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("jzd_resident=")]
    assert resident and all(f in resident[0].lower() for f in ("secure", "httponly", "samesite=lax"))


def test_dev_server_cookies_work_over_http(client, world):
    page = client.get(f"/s/{world['station'].code}")
    resident = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("jzd_resident=")]
    assert resident and "secure" not in resident[0].lower() and "httponly" in resident[0].lower()


def test_lockout_after_n_failures_then_release(app, client, world, backend, monkeypatch):
    user = world["city"]
    for _ in range(2):
        assert "用户名或密码不正确" in _post(client, user.username, "wrong-guess-1").get_data(as_text=True)
    third = _post(client, user.username, "wrong-guess-1")
    assert third.status_code == 429 and LOCKED_TEXT in third.get_data(as_text=True)
    assert int(third.headers["Retry-After"]) > 0
    # Even the right password is refused while locked.
    locked = _post(client, user.username, PASSWORD)
    assert locked.status_code == 429 and LOCKED_TEXT in locked.get_data(as_text=True)
    assert client.get("/console/").status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login_locked"))
    assert entry is not None and entry.object_id == user.username
    # The period over, the account opens again.
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_SECONDS", 1)
    lockout.release(user.username)  # an administrator's override, so the test need not wait 60 s
    db.session.commit()
    for _ in range(3):
        _post(client, user.username, "wrong-guess-2")
    assert _post(client, user.username, PASSWORD).status_code == 429
    time.sleep(1.3)
    assert _post(client, user.username, PASSWORD).status_code == 302


def test_an_admin_lifts_a_lock_out_in_their_scope(app, client, world, backend, make_user, login):
    """A locked-out colleague phones the district office: the admin unlocks them in 工作人员."""
    tree, station = world["tree"], world["station"]
    staff = make_user(Role.STATION_STAFF, station, username="locked_staff")
    own_admin = make_user(Role.DISTRICT_ADMIN, tree["district_a"], username="unlock_admin_a")
    other_admin = make_user(Role.DISTRICT_ADMIN, tree["district_b"], username="unlock_admin_b")
    db.session.commit()
    for _ in range(3):
        _post(client, staff.username, "wrong-guess-1")
    assert _post(client, staff.username, PASSWORD).status_code == 429

    login(other_admin)
    assert client.post(f"/console/users/{staff.id}/unlock").status_code == 404  # not theirs to see
    assert lockout.seconds_locked(staff.username) > 0
    client.post("/console/logout")

    login(own_admin)
    page = client.get(f"/console/users/{staff.id}/edit").get_data(as_text=True)
    assert "已被锁定" in page and "解除登录锁定" in page
    done = client.post(f"/console/users/{staff.id}/unlock", follow_redirects=True)
    assert "已解除账号 locked_staff 的登录锁定" in done.get_data(as_text=True)
    assert "解除登录锁定" not in done.get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login_unlocked"))
    assert entry is not None and entry.actor == "staff:unlock_admin_a" and entry.object_id == str(staff.id)
    client.post("/console/logout")
    assert _post(client, staff.username, PASSWORD).status_code == 302


def test_unknown_and_real_usernames_lock_alike(client, world, backend):
    real, ghost = world["city"].username, f"ghost_{backend}_{time.monotonic_ns()}"
    answers = {}
    for name in (real, ghost):
        for _ in range(3):
            response = _post(client, name, "wrong-guess-1")
        answers[name] = (response.status_code, response.get_data(as_text=True).replace(name, "U"))
    assert answers[real][0] == answers[ghost][0] == 429
    import re

    strip = lambda body: re.sub(r'name="csrf_token" value="[^"]*"', "", body)  # noqa: E731
    assert strip(answers[real][1]) == strip(answers[ghost][1])


def test_a_success_clears_the_count(client, world, backend):
    user = world["city"]
    _post(client, user.username, "wrong-guess-1")
    _post(client, user.username, "wrong-guess-1")
    assert _post(client, user.username, PASSWORD).status_code == 302
    client.get("/console/logout")
    _post(client, user.username, "wrong-guess-1")
    _post(client, user.username, "wrong-guess-1")
    assert _post(client, user.username, PASSWORD).status_code == 302


def test_console_sign_in_is_throttled_per_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "CONSOLE_LIMIT_LOGIN_ADDRESS", "4/minute")
    client.environ_base["REMOTE_ADDR"] = "10.77.0.1"
    statuses = [_post(client, f"spray{i}", "wrong-guess-1").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # four usernames tried, the fifth waits
    assert "操作过于频繁" in _post(client, world["city"].username, PASSWORD).get_data(as_text=True)
    client.environ_base["REMOTE_ADDR"] = "10.77.0.2"
    assert _post(client, world["city"].username, PASSWORD).status_code == 302
    assert client.get("/console/login").status_code in (200, 302)  # the form itself is never limited


def test_staff_api_shares_the_lockout(client, world, backend):
    user = world["city"]
    for _ in range(2):
        response = client.post("/api/v1/staff/token", json={"username": user.username, "password": "wrong-1"})
        assert response.status_code == 401
    response = client.post("/api/v1/staff/token", json={"username": user.username, "password": "wrong-1"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "login_locked"
    assert LOCKED_TEXT in response.get_json()["error"]["message"]
    # The console door is locked as well.
    assert _post(client, user.username, PASSWORD).status_code == 429


def test_the_lock_holds_across_workers(app, world, redis_url, main_database_url, monkeypatch):
    """Two app instances (two gunicorn workers) sharing Redis see the same lock."""
    import redis as redis_lib

    from tests.conftest import make_test_app

    monkeypatch.setitem(app.extensions, "redis", redis_lib.Redis.from_url(redis_url))
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 2)
    name = f"worker_{time.monotonic_ns()}"
    with app.test_request_context():
        lockout.register_failure(name)
        assert lockout.register_failure(name) > 0
    other = make_test_app(main_database_url, redis_url)
    with other.test_request_context():
        assert lockout.seconds_locked(name) > 0


def test_database_lock_counts_in_the_table(app, world, monkeypatch):
    from app.security.models import LoginFailure

    monkeypatch.setitem(app.extensions, "redis", None)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 2)
    lockout.register_failure("Table_User")
    row = db.session.get(LoginFailure, "table_user")
    assert row.failures == 1 and row.locked_until is None
    assert lockout.register_failure("table_user") > 0
    assert lockout.seconds_locked("TABLE_USER") > 0


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1", "至少 10 位"),
        ("abcdefghijkl", "两类"),
        ("password2026!", "常见"),
        ("woaini1314", "常见"),
        ("Admin123456", "常见"),
        ("zhangsan-2026", "用户名"),
        ("x1" * 70, "不能超过"),
    ],
)
def test_policy_refuses(password, message):
    with pytest.raises(ValidationFailed, match=message):
        check_password_policy(password, "zhangsan")


def test_demo_password_and_good_ones_pass():
    for password in ("demo-pass-2026", "路灯-维修-2026", "Lx!7q2-plaque"):
        check_password_policy(password, "city")


def test_policy_applies_wherever_a_password_is_set(world, make_station):
    city = world["city"]
    data = {
        "username": "policy_town",
        "display_name": "测试",
        "role": Role.TOWN_ADMIN.value,
        "region_id": str(world["tree"]["town_a"].id),
    }
    with pytest.raises(ValidationFailed, match="常见"):
        create_user(city, {**data, "password": "qwerty12345"})
    user = create_user(city, {**data, "password": "good-pass-2026"})
    with pytest.raises(ValidationFailed, match="用户名"):
        update_user(city, user, {"display_name": "测试", "active": True, "password": "policy_town-1"})
    with pytest.raises(ValidationFailed, match="常见"):
        change_own_password(user, "good-pass-2026", "password-1")
    change_own_password(user, "good-pass-2026", "another-good-2026")
    assert user.check_password("another-good-2026")

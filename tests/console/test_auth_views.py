"""Signing in and out: generic failures, safe redirects, inactive accounts, CSRF."""

from __future__ import annotations

import re

import pytest

from app.auth.models import Role
from app.console.auth_views import LOGIN_FAILED
from app.extensions import db
from app.stations.models import Station
from tests.auth.world import World
from tests.factories import PASSWORD


def post_login(client, username: str, password: str, **extra):
    return client.post("/console/login", data={"username": username, "password": password, **extra})


def test_login_page(client):
    response = client.get("/console/login")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "家站点管理后台" in body and 'name="csrf_token"' in body
    assert 'type="password"' in body


def test_login_and_dashboard(client, world: World):
    user = world.actors[Role.TOWN_ADMIN]
    response = post_login(client, user.username, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    body = client.get("/console/").get_data(as_text=True)
    assert "您好" in body and user.role_label in body and world.own.town.name in body
    assert "意见办理" in body and "即将开放" not in body


@pytest.mark.parametrize("role", list(Role))
def test_dashboard_cards_lead_to_pages_the_role_can_open(client, world: World, role: Role):
    """Each 工作事项 card is a working page for this role: no dead link, no "coming soon"."""
    import re

    post_login(client, world.actors[role].username, PASSWORD)
    body = client.get("/console/").get_data(as_text=True)
    cards = body[body.index("<h2>工作事项</h2>") :]
    links = re.findall(r'<a class="card" href="([^"]+)"', cards)
    assert "/console/opinions/" in links or any(link.startswith("/console/opinions") for link in links)
    for link in links:
        assert client.get(link).status_code == 200, (role, link)
    if role in (Role.CITY_ADMIN, Role.STATION_STAFF):
        assert len(links) == 7  # 意见办理, 民意研判, 接待活动, 活动台账, 履职未达标, 星级评定, 导出
    if role == Role.DEPUTY:  # their own 履职档案 first, and no "管辖范围" of their own name
        deputy = world.actors[role].deputy
        assert links[0] == f"/console/ledger/archive/{deputy.id}" and "我的履职档案" in cards
        assert deputy.name in client.get(links[0]).get_data(as_text=True)
        assert "管辖范围" not in body and "本人的履职记录" in body


@pytest.mark.parametrize("which", ["wrong_password", "unknown_user", "inactive"])
def test_login_failure_is_generic(client, world: World, which: str):
    user = world.actors[Role.STATION_STAFF]
    username, password = user.username, PASSWORD
    if which == "wrong_password":
        password = "not-the-password"
    elif which == "unknown_user":
        username = "nobody_at_all"
    else:
        user.active = False
        db.session.commit()
    response = post_login(client, username, password)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert LOGIN_FAILED in body
    assert f'value="{username}"' in body  # the username is kept
    assert client.get("/console/").status_code == 302  # still signed out


def test_failures_read_the_same_for_known_and_unknown_users(client, world: World):
    known = post_login(client, "act_town", "bad-password").get_data(as_text=True)
    unknown = post_login(client, "no_such_usr", "bad-password").get_data(as_text=True)
    strip = lambda body, name: re.sub(r'name="csrf_token" value="[^"]*"', "", body).replace(name, "U")  # noqa: E731
    assert strip(known, "act_town") == strip(unknown, "no_such_usr")


def test_safe_next_is_followed(client, world: World):
    response = post_login(client, "act_city", PASSWORD, next="/console/stations/?kind=home")
    assert response.headers["Location"] == "/console/stations/?kind=home"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/console/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "console/",
        "/console/\r\nSet-Cookie: x=1",
    ],
)
def test_unsafe_next_goes_to_the_dashboard(client, world: World, target: str):
    response = post_login(client, "act_city", PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"


def test_signed_out_pages_send_to_login_and_back(client, world: World):
    response = client.get("/console/stations/?kind=home")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/console/login?next=")
    page = client.get(location).get_data(as_text=True)
    assert 'name="next" value="/console/stations/?kind=home"' in page
    response = post_login(client, "act_city", PASSWORD, next="/console/stations/?kind=home")
    assert response.headers["Location"] == "/console/stations/?kind=home"


def test_logout(client, world: World):
    post_login(client, "act_unit", PASSWORD)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/logout").status_code == 405  # a link cannot sign anyone out
    response = client.post("/console/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/console/login"
    assert "您已安全退出" in client.get("/console/login").get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_a_deactivated_account_loses_its_session(client, world: World, login_as):
    user = world.actors[Role.STATION_STAFF]
    signed_in = login_as(user)
    assert signed_in.get("/console/").status_code == 200
    user.active = False
    db.session.commit()
    assert signed_in.get("/console/").status_code == 302


def test_signed_in_user_visiting_login_goes_to_dashboard(world: World, login_as):
    client = login_as(world.actors[Role.DEPUTY])
    assert client.get("/console/login").headers["Location"] == "/console/"


def test_change_password(world: World, login_as, app):
    user = world.actors[Role.DEPUTY]
    client = login_as(user)
    form = {"old_password": PASSWORD, "new_password": "fresh-pass-77", "confirm_password": "other-pass-77"}
    response = client.post("/console/password", data=form)
    assert response.status_code == 422 and "两次输入的新密码不一致" in response.get_data(as_text=True)
    form.update(old_password="wrong-old", confirm_password="fresh-pass-77")
    response = client.post("/console/password", data=form)
    assert response.status_code == 422 and "原密码不正确" in response.get_data(as_text=True)
    form.update(old_password=PASSWORD)
    response = client.post("/console/password", data=form)
    assert response.status_code == 302
    assert "密码已修改" in client.get("/console/").get_data(as_text=True)
    assert post_login(app.test_client(), user.username, PASSWORD).status_code == 200  # old one refused
    assert post_login(app.test_client(), user.username, "fresh-pass-77").status_code == 302


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def csrf_token(client, path: str) -> str:
    body = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)


def test_a_post_without_token_is_refused_and_changes_nothing(world: World, login_as, app, monkeypatch):
    station = world.own.station
    client = login_as(world.actors[Role.DISTRICT_ADMIN])  # signed in while CSRF is off
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    form = {"name": "被篡改的站名", "address": "某地", "status": "active"}
    response = client.post(f"/console/stations/{station.id}/edit", data=form)
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Station, station.id).name != "被篡改的站名"
    # The token the form carries is accepted.
    form["csrf_token"] = csrf_token(client, f"/console/stations/{station.id}/edit")
    response = client.post(f"/console/stations/{station.id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Station, station.id).name == "被篡改的站名"


def test_login_needs_the_token_too(client, world: World, csrf_on):
    response = post_login(client, "act_city", PASSWORD)
    assert response.status_code == 400
    assert client.get("/console/").status_code == 302
    token = csrf_token(client, "/console/login")
    assert post_login(client, "act_city", PASSWORD, csrf_token=token).status_code == 302


def test_logout_needs_the_token(world: World, login_as, app, monkeypatch):
    client = login_as(world.actors[Role.CITY_ADMIN])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/").status_code == 200

"""Accounts and what each role may manage: app/auth/service.py."""

from __future__ import annotations

import pytest

from app.auth.models import Role
from app.auth.service import (
    authenticate,
    can_add_region_under,
    can_edit_station_info,
    can_manage_deputy,
    can_manage_region,
    can_manage_station,
    can_manage_unit,
    can_manage_user,
    change_own_password,
    create_user,
    update_user,
)
from app.errors import Conflict, Forbidden, ValidationFailed
from tests.auth.world import World
from tests.factories import PASSWORD

ADMINS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN)
OTHERS = (Role.STATION_STAFF, Role.UNIT_STAFF, Role.DEPUTY)


def new_user(role: Role, key: str, target_id: int, **extra) -> dict:
    data = {
        "username": f"new_{role.value}",
        "display_name": "新账号",
        "role": role.value,
        "password": "long-enough-1",
    }
    data[key] = str(target_id)
    data.update(extra)
    return data


# --- login -----------------------------------------------------------------------------------


def test_authenticate(world: World):
    user = world.actors[Role.TOWN_ADMIN]
    assert authenticate(user.username, PASSWORD) is user
    assert user.last_login_at is not None
    assert authenticate(f"  {user.username} ", PASSWORD) is user
    assert authenticate(user.username, "wrong-password") is None
    assert authenticate("nobody-here", PASSWORD) is None
    assert authenticate("", "") is None


def test_an_inactive_user_cannot_authenticate(world: World):
    user = world.actors[Role.STATION_STAFF]
    user.active = False
    assert authenticate(user.username, PASSWORD) is None


# --- what each role may manage -----------------------------------------------------------------


def test_regions_strictly_below_the_admins_root(world: World):
    a, b = world.own, world.sides["b"]
    district = world.actors[Role.DISTRICT_ADMIN]
    assert can_manage_region(district, a.town)
    assert can_manage_region(district, a.village)
    assert not can_manage_region(district, a.district)  # the own root stays
    assert not can_manage_region(district, b.town)
    assert can_add_region_under(district, a.district)
    assert not can_add_region_under(district, b.district)
    assert can_manage_region(world.actors[Role.CITY_ADMIN], b.town)
    assert not can_manage_region(world.actors[Role.CITY_ADMIN], world.sides["x"].town)
    for role in OTHERS:
        assert not can_manage_region(world.actors[role], a.village)
        assert not can_add_region_under(world.actors[role], a.village)


def test_stations(world: World):
    a, b = world.own, world.sides["b"]
    for role in ADMINS:
        assert can_manage_station(world.actors[role], a.station)
        assert can_edit_station_info(world.actors[role], a.station)
    assert not can_manage_station(world.actors[Role.DISTRICT_ADMIN], b.station)
    staff = world.actors[Role.STATION_STAFF]
    assert not can_manage_station(staff, a.station)
    assert can_edit_station_info(staff, a.station)  # public information only
    assert not can_edit_station_info(staff, b.station)
    for role in (Role.UNIT_STAFF, Role.DEPUTY):
        assert not can_edit_station_info(world.actors[role], a.station)


def test_deputies_and_units(world: World, make_deputy):
    a, b = world.own, world.sides["b"]
    for role in ADMINS:
        assert can_manage_deputy(world.actors[role], a.deputy)
        assert can_manage_unit(world.actors[role], a.unit)
    district = world.actors[Role.DISTRICT_ADMIN]
    assert not can_manage_deputy(district, b.deputy)
    assert not can_manage_unit(district, b.unit)
    # Placed at an own station but kept by the city: visible to the district, not editable by it.
    outsider = make_deputy(world.city, name="城代表", level="city", station=a.station)
    assert not can_manage_deputy(district, outsider)
    assert can_manage_deputy(world.actors[Role.CITY_ADMIN], outsider)
    for role in OTHERS:
        assert not can_manage_deputy(world.actors[role], a.deputy)
        assert not can_manage_unit(world.actors[role], a.unit)


def test_users_of_own_rank_or_below_in_scope_but_never_oneself(world: World):
    a, b = world.own, world.sides["b"]
    city, district, town = (world.actors[r] for r in ADMINS)
    assert can_manage_user(district, a.staff)
    assert can_manage_user(district, town)
    assert not can_manage_user(district, city)  # higher rank
    assert not can_manage_user(district, district)  # oneself: 修改密码 instead
    assert not can_manage_user(district, b.staff)  # outside the scope
    assert not can_manage_user(town, district)
    assert can_manage_user(city, district)
    for role in OTHERS:
        assert not can_manage_user(world.actors[role], a.staff)


# --- creating accounts --------------------------------------------------------------------------


def test_create_user_within_rank_and_scope(world: World):
    district = world.actors[Role.DISTRICT_ADMIN]
    a = world.own
    user = create_user(district, new_user(Role.TOWN_ADMIN, "region_id", a.town.id))
    assert user.role == Role.TOWN_ADMIN and user.region is a.town
    assert user.check_password("long-enough-1")
    assert user.password_hash != "long-enough-1"
    peer = create_user(district, new_user(Role.DISTRICT_ADMIN, "region_id", a.district.id, username="peer_d"))
    assert peer.region is a.district


def test_create_user_refuses_a_higher_rank(world: World):
    with pytest.raises(Forbidden):
        create_user(world.actors[Role.DISTRICT_ADMIN], new_user(Role.CITY_ADMIN, "region_id", world.city.id))
    with pytest.raises(Forbidden):
        create_user(
            world.actors[Role.TOWN_ADMIN], new_user(Role.DISTRICT_ADMIN, "region_id", world.own.district.id)
        )


def test_create_user_refuses_a_target_outside_the_scope(world: World):
    b = world.sides["b"]
    district = world.actors[Role.DISTRICT_ADMIN]
    for role, key, target in (
        (Role.TOWN_ADMIN, "region_id", b.town),
        (Role.STATION_STAFF, "station_id", b.station),
        (Role.UNIT_STAFF, "unit_id", b.unit),
        (Role.DEPUTY, "deputy_id", b.deputy),
    ):
        with pytest.raises(Forbidden):
            create_user(district, new_user(role, key, target.id))


def test_non_admins_create_nobody(world: World):
    for role in OTHERS:
        with pytest.raises(Forbidden):
            create_user(world.actors[role], new_user(Role.UNIT_STAFF, "unit_id", world.own.unit.id))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "x"}, "用户名"),
        ({"username": "有中文"}, "用户名"),
        ({"password": "short"}, "密码至少"),
        ({"role": "emperor"}, "请选择角色"),
        ({"region_id": ""}, "请选择所属区域"),
        ({"display_name": " "}, "请填写姓名"),
        ({"phone": "call me"}, "电话格式"),
    ],
)
def test_create_user_validates(world: World, change: dict, message: str):
    data = new_user(Role.TOWN_ADMIN, "region_id", world.own.town.id)
    data.update(change)
    with pytest.raises(ValidationFailed) as info:
        create_user(world.actors[Role.DISTRICT_ADMIN], data)
    assert message in info.value.message


def test_an_admin_account_sits_at_its_role_level(world: World):
    with pytest.raises(ValidationFailed) as info:
        create_user(
            world.actors[Role.DISTRICT_ADMIN], new_user(Role.TOWN_ADMIN, "region_id", world.own.village.id)
        )
    assert "镇/街道/园区" in info.value.message


def test_usernames_are_unique(world: World):
    data = new_user(Role.UNIT_STAFF, "unit_id", world.own.unit.id, username=world.own.staff.username)
    with pytest.raises(Conflict):
        create_user(world.actors[Role.DISTRICT_ADMIN], data)


def test_a_station_has_at_most_two_staff(world: World):
    # The world already gives the own station two: the actor and ``staff``.
    a = world.own
    district = world.actors[Role.DISTRICT_ADMIN]
    with pytest.raises(Conflict) as info:
        create_user(district, new_user(Role.STATION_STAFF, "station_id", a.station.id))
    assert "1-2 名" in info.value.message
    # A deactivated account frees its seat; switching it back on while full is refused.
    update_user(district, a.staff, {"display_name": a.staff.display_name, "active": False})
    third = create_user(district, new_user(Role.STATION_STAFF, "station_id", a.station.id))
    assert third.station is a.station
    with pytest.raises(Conflict):
        update_user(district, a.staff, {"display_name": a.staff.display_name, "active": True})


def test_the_system_may_create_any_account(world: World):
    user = create_user(None, new_user(Role.CITY_ADMIN, "region_id", world.other_city.id))
    assert user.region is world.other_city


# --- changing accounts --------------------------------------------------------------------------


def test_update_user(world: World):
    district = world.actors[Role.DISTRICT_ADMIN]
    staff = world.own.staff
    update_user(
        district,
        staff,
        {"display_name": "新名字", "phone": "13700000000", "active": True, "password": "brand-new-9"},
    )
    assert staff.display_name == "新名字" and staff.phone == "13700000000"
    assert staff.check_password("brand-new-9")
    update_user(district, staff, {"display_name": "新名字", "active": True, "password": ""})
    assert staff.check_password("brand-new-9")  # empty keeps the password
    with pytest.raises(ValidationFailed):
        update_user(district, staff, {"display_name": "新名字", "active": True, "password": "short"})


def test_update_user_needs_the_right_to_manage(world: World):
    with pytest.raises(Forbidden):
        update_user(world.actors[Role.DISTRICT_ADMIN], world.sides["b"].staff, {"display_name": "x"})
    town = world.actors[Role.TOWN_ADMIN]
    with pytest.raises(Forbidden):
        update_user(town, town, {"display_name": "x", "active": True})


def test_change_own_password(world: World):
    user = world.actors[Role.DEPUTY]
    with pytest.raises(ValidationFailed):
        change_own_password(user, "wrong", "new-password-1")
    with pytest.raises(ValidationFailed):
        change_own_password(user, PASSWORD, "short")
    change_own_password(user, PASSWORD, "new-password-1")
    assert user.check_password("new-password-1")
    assert not user.check_password(PASSWORD)

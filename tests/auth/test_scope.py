"""visible() per role for each scoped model: own branch in, sibling branch and other city out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import Role, StaffUser
from app.auth.scope import get_visible, is_visible, scope_of, scoped_select, visible
from app.deputies.models import Deputy, Mandate
from app.errors import NotFound
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Placement, Station
from app.units.models import HandlingUnit
from app.workdays.models import CalendarDay
from tests.auth.world import World

ADMIN_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_ADMIN)


def ids(model, user) -> set[int]:
    pk = model.__mapper__.primary_key[0]
    return set(db.session.scalars(select(pk).where(visible(model, user))))


def side_ids(world: World, keys: str, attrs: tuple[str, ...]) -> set[int]:
    return {getattr(world.sides[k], a).id for k in keys for a in attrs}


def test_regions_are_the_admins_subtree(world: World):
    a = world.own
    city_regions = {
        r.id for r in db.session.scalars(select(Region).where(Region.path.startswith(world.city.path)))
    }
    assert ids(Region, world.actors[Role.CITY_ADMIN]) == city_regions
    assert ids(Region, world.actors[Role.DISTRICT_ADMIN]) == {
        a.district.id,
        a.town.id,
        a.village.id,
        a.spare_region.id,
    }
    assert ids(Region, world.actors[Role.TOWN_ADMIN]) == {a.town.id, a.village.id, a.spare_region.id}
    for role in (Role.STATION_STAFF, Role.UNIT_STAFF, Role.DEPUTY):
        assert ids(Region, world.actors[role]) == set()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CITY_ADMIN, "ab"),
        (Role.DISTRICT_ADMIN, "a"),
        (Role.TOWN_ADMIN, "a"),
        (Role.STATION_STAFF, "a"),
        (Role.DEPUTY, "a"),  # placed there
        (Role.UNIT_STAFF, ""),
    ],
)
def test_stations(world: World, role: Role, expected: str):
    assert ids(Station, world.actors[role]) == side_ids(world, expected, ("station",))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CITY_ADMIN, ("ab", ("deputy", "spare_deputy"))),
        (Role.DISTRICT_ADMIN, ("a", ("deputy", "spare_deputy"))),
        (Role.TOWN_ADMIN, ("a", ("deputy", "spare_deputy"))),
        (Role.STATION_STAFF, ("a", ("deputy",))),  # only those placed at the own station
        (Role.DEPUTY, ("a", ("deputy",))),  # only oneself
        (Role.UNIT_STAFF, ("", ())),
    ],
)
def test_deputies_and_their_mandates(world: World, role: Role, expected):
    keys, attrs = expected
    deputies = side_ids(world, keys, attrs)
    user = world.actors[role]
    assert ids(Deputy, user) == deputies
    mandates = set(db.session.scalars(select(Mandate.id).where(Mandate.deputy_id.in_(deputies or [0]))))
    assert ids(Mandate, user) == mandates


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CITY_ADMIN, "ab"),
        (Role.DISTRICT_ADMIN, "a"),
        (Role.TOWN_ADMIN, "a"),
        (Role.UNIT_STAFF, "a"),
        (Role.STATION_STAFF, ""),
        (Role.DEPUTY, ""),
    ],
)
def test_units(world: World, role: Role, expected: str):
    assert ids(HandlingUnit, world.actors[role]) == side_ids(world, expected, ("unit",))


def test_placements_follow_the_stations(world: World):
    for role in Role:
        user = world.actors[role]
        stations = ids(Station, user)
        expected = set(
            db.session.scalars(select(Placement.id).where(Placement.station_id.in_(stations or [0])))
        )
        assert ids(Placement, user) == expected


def test_staff_users(world: World):
    a, b = world.own, world.sides["b"]
    everyone_a = {u.id for u in world.actors.values()} | {a.staff.id}
    district = ids(StaffUser, world.actors[Role.DISTRICT_ADMIN])
    assert district == everyone_a - {world.actors[Role.CITY_ADMIN].id}
    town = ids(StaffUser, world.actors[Role.TOWN_ADMIN])
    assert town == district - {world.actors[Role.DISTRICT_ADMIN].id}
    city = ids(StaffUser, world.actors[Role.CITY_ADMIN])
    assert a.staff.id in city and b.staff.id in city
    assert world.sides["x"].staff.id not in city
    for role in (Role.STATION_STAFF, Role.UNIT_STAFF, Role.DEPUTY):
        assert ids(StaffUser, world.actors[role]) == {world.actors[role].id}


def test_a_deputy_placed_in_scope_is_visible_but_kept_elsewhere(world: World, make_deputy):
    # A city-level deputy placed at a village station: the district sees them on its station.
    a = world.own
    outsider = make_deputy(world.city, name="城代表", level="city", station=a.station)
    district = world.actors[Role.DISTRICT_ADMIN]
    assert is_visible(outsider, district)
    assert not is_visible(outsider, world.actors[Role.UNIT_STAFF])


def test_get_visible_is_404_outside_the_scope(world: World):
    district = world.actors[Role.DISTRICT_ADMIN]
    assert get_visible(Station, world.own.station.id, district) is world.own.station
    with pytest.raises(NotFound):
        get_visible(Station, world.sides["b"].station.id, district)
    with pytest.raises(NotFound):
        get_visible(Station, 10**9, district)


def test_a_model_without_a_declared_scope_is_visible_to_nobody(world: World):
    assert db.session.scalars(scoped_select(CalendarDay, world.actors[Role.CITY_ADMIN])).first() is None


def test_scope_of_each_role(world: World):
    a = world.own
    assert scope_of(world.actors[Role.DISTRICT_ADMIN]).region_path == a.district.path
    assert scope_of(world.actors[Role.STATION_STAFF]).station_id == a.station.id
    assert scope_of(world.actors[Role.UNIT_STAFF]).unit_id == a.unit.id
    assert scope_of(world.actors[Role.DEPUTY]).deputy_id == a.deputy.id
    for role in ADMIN_ROLES:
        assert scope_of(world.actors[role]).is_admin

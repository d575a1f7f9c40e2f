"""Fixtures of the staff API tests: an opinion world with every role, and their bearer tokens.

A village station under town A and district A (with a second station of town A), a sibling
branch B whose opinions nobody on A may see, units of both districts, and one account of
every role on each side. The ``tests/api/test_staff_*.py`` modules import the fixture
functions (named ``*_fixture`` so the fixture names stay free for the tests' arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.auth.models import StaffUser
from app.extensions import db
from app.opinions.models import Opinion
from app.opinions.pipeline import perform
from app.opinions.service import submit_opinion
from tests.factories import PASSWORD

CONTENT = "小区门口的路灯坏了两个星期，晚上出行不便"
# Where an opinion's main path goes, and who takes each step.
PATH = [
    ("accepted", "accept", "station", {}),
    ("classified", "classify", "station", {"category": "urban"}),
    ("assigned", "assign", "town", {"unit_code": None}),
    ("replied", "reply", "unit", {"text": "已安排维修，三日内修复。"}),
    ("fed_back", "feedback", "station", {}),
]


@dataclass
class StaffWorld:
    tree: dict
    station: object
    other_station: object  # a second station of town A
    foreign_station: object  # district B
    deputy: object
    unit: object
    court: object
    foreign_unit: object
    users: dict[str, StaffUser] = field(default_factory=dict)

    def new(self, content: str = CONTENT, *, station=None, **kw) -> Opinion:
        kw.setdefault("resident_id", "oRes1")
        kw.setdefault("channel", "h5")
        opinion = submit_opinion(station=station or self.station, content=content, **kw)
        db.session.commit()
        return opinion

    def to(self, opinion: Opinion, status: str, *, unit=None) -> Opinion:
        """Walk an opinion along the main path up to ``status`` through the pipeline, as its side's staff."""
        foreign = opinion.station_id == self.foreign_station.id
        unit = unit or (self.foreign_unit if foreign else self.unit)
        for reached, action, who, params in PATH:
            if action == "assign":
                params = {"unit_code": unit.code}
            if who == "unit":
                who = {self.unit.id: "unit", self.court.id: "court", self.foreign_unit.id: "foreign_unit"}[
                    unit.id
                ]
            elif foreign:
                who = f"foreign_{who}"
            perform(opinion, action, self.users[who], params)
            if reached == status:
                break
        db.session.commit()
        return opinion


@pytest.fixture(name="staff_world")
def staff_world_fixture(
    region_tree, make_station, make_deputy, make_unit, make_user, make_region
) -> StaffWorld:
    tree = region_tree()
    station = make_station(tree["village_a"], name="A村联络站")
    other_station = make_station(make_region(tree["town_a"], "A二村"), name="A二村联络站")
    foreign_station = make_station(tree["village_b"], name="B村联络站")
    deputy = make_deputy(tree["town_a"], name="艾代表", station=station)
    foreign_deputy = make_deputy(tree["town_b"], name="毕代表", station=foreign_station)
    unit = make_unit(tree["district_a"], name="A区住建局")
    court = make_unit(tree["district_a"], name="A区人民法院", kind="judicial")
    foreign_unit = make_unit(tree["district_b"], name="B区住建局")
    world = StaffWorld(tree, station, other_station, foreign_station, deputy, unit, court, foreign_unit)
    world.users = {
        "station": make_user("station_staff", station),
        "other_station": make_user("station_staff", other_station),
        "foreign_station": make_user("station_staff", foreign_station),
        "town": make_user("town_admin", tree["town_a"]),
        "foreign_town": make_user("town_admin", tree["town_b"]),
        "district": make_user("district_admin", tree["district_a"]),
        "foreign_district": make_user("district_admin", tree["district_b"]),
        "city": make_user("city_admin", tree["city"]),
        "unit": make_user("unit_staff", unit),
        "court": make_user("unit_staff", court),
        "foreign_unit": make_user("unit_staff", foreign_unit),
        "deputy": make_user("deputy", deputy),
        "foreign_deputy": make_user("deputy", foreign_deputy),
    }
    db.session.commit()
    return world


@pytest.fixture(name="staff_token")
def staff_token_fixture(client):
    """Sign a staff member in through ``POST /api/v1/staff/token``; returns their call headers."""

    def do(user: StaffUser, password: str = PASSWORD) -> dict[str, str]:
        response = client.post("/api/v1/staff/token", json={"username": user.username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do

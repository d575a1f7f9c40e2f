"""A small opinion world: a village station under town A and district A, everyone who works it,
and a sibling branch B whose opinions nobody on A may see."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.auth.models import StaffUser
from app.extensions import db
from app.opinions.models import Opinion
from app.opinions.pipeline import perform
from app.opinions.service import submit_opinion
from tests.auth.conftest import world  # noqa: F401  (the matrix world, for the scope tests)
from tests.factories import PASSWORD


@dataclass
class Loop:
    tree: dict
    station: object
    other_station: object  # a second station of town A
    foreign_station: object  # district B
    deputy: object
    unit: object
    court: object
    foreign_unit: object
    users: dict[str, StaffUser] = field(default_factory=dict)

    def new(
        self, content: str = "小区门口的路灯坏了两个星期，晚上出行不便", *, station=None, **kw
    ) -> Opinion:
        kw.setdefault("resident_id", "oRes1")
        kw.setdefault("channel", "h5")
        return submit_opinion(station=station or self.station, content=content, **kw)

    def to(self, opinion: Opinion, status: str, category: str = "urban") -> Opinion:
        """Walk an opinion along the main path up to ``status`` through the pipeline."""
        steps = {
            "accepted": [("accept", "station", {})],
            "classified": [("accept", "station", {}), ("classify", "station", {"category": category})],
        }
        steps["assigned"] = [*steps["classified"], ("assign", "town", {"unit_code": self.unit.code})]
        steps["replied"] = [*steps["assigned"], ("reply", "unit", {"text": "已安排维修，三日内修复。"})]
        steps["fed_back"] = [*steps["replied"], ("feedback", "station", {})]
        for action, who, params in steps[status]:
            perform(opinion, action, self.users[who], params)
        db.session.flush()
        return opinion


@pytest.fixture
def loop(region_tree, make_station, make_deputy, make_unit, make_user, make_region) -> Loop:
    tree = region_tree()
    station = make_station(tree["village_a"], name="A村联络站")
    other_village = make_region(tree["town_a"], "A二村")
    other_station = make_station(other_village, name="A二村联络站")
    foreign_station = make_station(tree["village_b"], name="B村联络站")
    deputy = make_deputy(tree["town_a"], name="艾代表", station=station)
    unit = make_unit(tree["district_a"], name="A区住建局")
    court = make_unit(tree["district_a"], name="A区人民法院", kind="judicial")
    foreign_unit = make_unit(tree["district_b"], name="B区住建局")
    built = Loop(tree, station, other_station, foreign_station, deputy, unit, court, foreign_unit)
    built.users = {
        "station": make_user("station_staff", station, username="op_station"),
        "other_station": make_user("station_staff", other_station, username="op_station2"),
        "foreign_station": make_user("station_staff", foreign_station, username="op_station_b"),
        "town": make_user("town_admin", tree["town_a"], username="op_town"),
        "district": make_user("district_admin", tree["district_a"], username="op_district"),
        "foreign_district": make_user("district_admin", tree["district_b"], username="op_district_b"),
        "city": make_user("city_admin", tree["city"], username="op_city"),
        "unit": make_user("unit_staff", unit, username="op_unit"),
        "court": make_user("unit_staff", court, username="op_court"),
        "foreign_unit": make_user("unit_staff", foreign_unit, username="op_unit_b"),
        "deputy": make_user("deputy", deputy, username="op_deputy"),
    }
    db.session.commit()
    return built


@pytest.fixture
def as_user(app):
    """A fresh test client signed in as ``user`` through the real login form."""

    def do(user: StaffUser):
        client = app.test_client()
        response = client.post("/console/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return do


def body(response) -> str:
    return response.get_data(as_text=True)

"""A small world for the security tests: a station with a deputy, an opinion and a booking."""

from __future__ import annotations

from datetime import date

import pytest

from app.auth.models import Role
from app.extensions import db
from app.opinions.service import submit_opinion
from tests.factories import build_reception

RESIDENT_MOBILE = "13912345678"


@pytest.fixture
def world(region_tree, make_station, make_deputy, make_user):
    tree = region_tree()
    station = make_station(tree["village_a"])
    deputy = make_deputy(tree["town_a"], station=station)
    opinion = submit_opinion(
        station=station,
        content="小区门口路灯坏了，晚上出行不便，请尽快维修。",
        channel="h5",
        resident_id="anon-resident-1",
        contact_name="王先生",
        contact_mobile=RESIDENT_MOBILE,
    )
    reception = build_reception(station, [deputy], day=date(2030, 12, 17))
    city = make_user(Role.CITY_ADMIN, tree["city"], username="sec_city")
    db.session.commit()  # views roll back on refusals: keep the world (a savepoint under tests)
    return {
        "tree": tree,
        "station": station,
        "deputy": deputy,
        "opinion": opinion,
        "reception": reception,
        "city": city,
    }

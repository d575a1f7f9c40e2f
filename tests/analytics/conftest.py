"""A city with districts A and B, a station in each, opinions with known timings (tests/analytics/data.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from app.auth.models import Role, StaffUser
from app.extensions import db
from app.opinions.models import Category
from app.regions.models import Region
from app.stations.models import Station
from app.timeutil import local_now
from tests.analytics.data import Dataset, build
from tests.api.staff_world import staff_token_fixture  # noqa: F401


@dataclass
class Place:
    tree: dict[str, Region]
    station_a: Station
    station_b: Station
    users: dict[str, StaffUser]
    data: Dataset
    today: date


def ensure_categories() -> None:
    for sort, (code, name) in enumerate(
        (("traffic", "交通出行"), ("env", "环境卫生"), ("legal", "涉法涉诉"))
    ):
        if db.session.query(Category).filter_by(code=code).first() is None:
            db.session.add(Category(code=code, name=name, deadline_workdays=15, sort=sort))
    db.session.flush()


@pytest.fixture
def place(region_tree, make_station, make_user) -> Place:
    tree = region_tree()
    ensure_categories()
    station_a = make_station(tree["village_a"], name="A村联络站")
    station_b = make_station(tree["village_b"], name="B村联络站")
    users = {
        "city": make_user(Role.CITY_ADMIN, tree["city"]),
        "district_a": make_user(Role.DISTRICT_ADMIN, tree["district_a"]),
        "district_b": make_user(Role.DISTRICT_ADMIN, tree["district_b"]),
        "station_a": make_user(Role.STATION_STAFF, station_a),
    }
    today = local_now().date()
    data = build(station_a, station_b, today - timedelta(days=40), today)
    db.session.commit()
    return Place(tree, station_a, station_b, users, data, today)

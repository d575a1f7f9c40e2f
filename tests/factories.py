"""Factory fixtures: each returns a callable that builds one object through the services."""

from __future__ import annotations

import itertools
from datetime import date, time

import pytest

from app.auth.models import Role, StaffUser
from app.auth.service import create_user
from app.deputies.models import Deputy
from app.deputies.service import create_deputy
from app.extensions import db
from app.regions.models import Region
from app.regions.service import create_region
from app.stations.models import Station
from app.stations.service import create_station, place_deputy
from app.units.models import HandlingUnit
from app.units.service import create_unit

PASSWORD = "secret-pass-1"
_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


@pytest.fixture
def make_region(db_session):
    def make(parent: Region | None = None, name: str | None = None, code: str | None = None) -> Region:
        n = _n()
        return create_region(code=code or f"R{n:06d}", name=name or f"测试区域{n}", parent=parent)

    return make


@pytest.fixture
def region_tree(make_region):
    """A city with two districts, each with a town and a village: own and foreign branches."""

    def make() -> dict[str, Region]:
        city = make_region(None, "测试市")
        tree = {"city": city}
        for side in ("a", "b"):
            district = make_region(city, f"{side.upper()}区")
            town = make_region(district, f"{side.upper()}镇")
            village = make_region(town, f"{side.upper()}村")
            tree.update({f"district_{side}": district, f"town_{side}": town, f"village_{side}": village})
        return tree

    return make


@pytest.fixture
def make_station(db_session):
    def make(region: Region, kind: str | None = None, **data) -> Station:
        n = _n()
        if kind is None:
            kind = "station" if region.level == "village" else "home"
        fields = {"name": f"测试站点{n}", "address": f"测试路{n}号", "phone": "0510-8888888"}
        fields.update(data)
        return create_station(region=region, kind=kind, data=fields)

    return make


@pytest.fixture
def make_deputy(db_session):
    def make(
        region: Region, name: str | None = None, level: str = "town", station: Station | None = None, **data
    ) -> Deputy:
        n = _n()
        fields = {"name": name or f"代表{n}", "unit": "测试单位", "post": "职员"}
        fields.update(data)
        deputy = create_deputy(
            region=region,
            data=fields,
            mandates=[{"level": level, "term": "第十八届", "start_year": 2022}],
        )
        if station is not None:
            place_deputy(station, deputy)
        return deputy

    return make


@pytest.fixture
def make_unit(db_session):
    def make(region: Region, **data) -> HandlingUnit:
        n = _n()
        fields = {"name": f"测试承办单位{n}"}
        fields.update(data)
        return create_unit(region=region, code=f"U{n:05d}", data=fields)

    return make


@pytest.fixture
def make_user(db_session):
    def make(role: Role | str, target, username: str | None = None, password: str = PASSWORD) -> StaffUser:
        role = Role(role)
        key = {
            Role.STATION_STAFF: "station_id",
            Role.UNIT_STAFF: "unit_id",
            Role.DEPUTY: "deputy_id",
        }.get(role, "region_id")
        return create_user(
            None,
            {
                "username": username or f"user{_n()}",
                "display_name": "测试用户",
                "role": role.value,
                "password": password,
                key: str(target.id),
            },
        )

    return make


@pytest.fixture
def login(client):
    """Log a user in through the real login form."""

    def do(user: StaffUser, password: str = PASSWORD):
        response = client.post("/console/login", data={"username": user.username, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return client

    return do


@pytest.fixture
def commit(db_session):
    """Flush what a test built so requests on the same connection see it."""

    def do() -> None:
        db.session.flush()

    return do


def build_reception(
    station: Station,
    deputies=(),
    *,
    day: date,
    start: time = time(9),
    end: time = time(10, 30),
    capacity: int = 2,
    status: str = "announced",
    kind: str = "service_day",
    topic: str = "代表联系服务群众日",
):
    """A reception with 30-minute slots of ``capacity`` seats and these deputies on duty (flushed)."""
    from app.receptions.models import Reception, ReceptionDuty

    reception = Reception(
        station=station,
        date=day,
        start=start,
        end=end,
        kind=kind,
        topic=topic,
        slot_minutes=30,
        slot_capacity=capacity,
        status=status,
    )
    reception.duties = [ReceptionDuty(deputy=deputy) for deputy in deputies]
    db.session.add(reception)
    db.session.flush()
    return reception

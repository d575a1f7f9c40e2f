"""Fixtures of the mini-program API: residents signed in through the mock, a station with receptions.

Rate limits count per resident (openid) and per client address, and under Redis the counters
outlive a test session: every test gets its own client address and fresh ``wx.login`` codes.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, datetime, time

import pytest

from app.extensions import db
from app.receptions.models import Reception, ReceptionStatus
from app.wechat.mock import mock_state
from tests.factories import build_reception

_addresses = itertools.count(1)
_NET = random.randint(0, 255)

# "Now" for tests that depend on the clock: a Tuesday morning, two weeks before a service day.
NOW = datetime(2026, 12, 1, 8, 0)
SERVICE_DAY = date(2026, 12, 15)


def next_address() -> str:
    n = next(_addresses)
    return f"10.{_NET}.{n // 250}.{n % 250 + 1}"


@pytest.fixture
def client(client):
    """The test client, from a client address of its own."""
    client.environ_base["REMOTE_ADDR"] = next_address()
    return client


@pytest.fixture
def sign_in(client):
    """Sign a resident in as the mini-program does; returns the headers of their later calls."""

    def do(name: str = "resident") -> dict[str, str]:
        response = client.post("/api/v1/auth/login", json={"code": f"{name}-{uuid.uuid4().hex}"})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do


@pytest.fixture
def clock(monkeypatch):
    """Freeze the API's notion of now at ``NOW`` (local time)."""
    for module in ("app.api.bookings", "app.api.receptions"):
        monkeypatch.setattr(f"{module}.local_now", lambda: NOW)
    return NOW


@pytest.fixture
def mock_api(app):
    """The in-process WeChat mock's record and faults, cleared around the test."""
    state = mock_state(app.extensions["wechat_mock_app"])
    state.clear_requests()
    state.clear_faults()
    yield state
    state.clear_faults()


def add_reception(station, deputies=(), *, day: date = SERVICE_DAY, **fields) -> Reception:
    """A reception on the service day by default (see ``build_reception``)."""
    return build_reception(station, deputies, day=day, **fields)


@pytest.fixture
def site(region_tree, make_station, make_deputy):
    """A village station with two deputies and its receptions around ``NOW``."""
    tree = region_tree()
    station = make_station(
        tree["village_a"],
        "station",
        name="清扬社区人大代表联络站",
        address="清扬路 100 号",
        lat="31.57",
        lng="120.30",
    )
    city = make_deputy(
        tree["city"], name="陈立", level="city", station=station, public_contact="0510-1234567"
    )
    town = make_deputy(tree["town_a"], name="周敏", level="town", station=station)
    receptions = {
        # Under way at NOW: its first two slots have started.
        "now": add_reception(
            station,
            [town],
            day=NOW.date(),
            start=time(7, 30),
            end=time(9),
            kind="topic",
            topic="加装电梯专题接待",
        ),
        "service_day": add_reception(station, [city, town]),
        "draft": add_reception(station, [city], day=date(2026, 12, 16), status=ReceptionStatus.DRAFT),
        "no_booking": add_reception(
            station, [city], day=date(2026, 12, 20), capacity=0, kind="report", topic="代表述职"
        ),
        "later": add_reception(station, [town], day=date(2027, 2, 2)),
        "past": add_reception(station, [city], day=date(2026, 11, 17)),
    }
    # Committed (a savepoint the test's rollback still undoes): a view's rollback keeps it.
    db.session.commit()
    return {"tree": tree, "station": station, "deputies": [city, town], "receptions": receptions}

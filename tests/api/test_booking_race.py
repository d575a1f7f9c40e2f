"""The booking race through the API: 100 residents, one slot of five seats, on PostgreSQL.

A real server (werkzeug, threaded) on a fresh, committed database; 100 residents sign in
with their own ``wx.login`` codes and post their bookings at the same moment. Exactly five
get 201, the other 95 a 409 ``slot_full`` saying 已约满 — nothing else, no 5xx, no 429 (the
per-resident limits key on each resident, and 100 posts stay within the per-address limit).
"""

from __future__ import annotations

import threading
import uuid
from datetime import time, timedelta

import pytest
import requests
from werkzeug.serving import make_server

from app.extensions import db
from app.receptions.bookings import slot_usage
from app.receptions.models import Booking, Reception
from app.timeutil import local_now
from tests.conftest import make_test_app

RESIDENTS = 100
CAPACITY = 5


@pytest.fixture
def race_app(pg_databases):
    from flask_migrate import upgrade

    app = make_test_app(
        pg_databases.create("apirace"),
        # One connection per concurrent request would be 100; 25 shared is what a worker has.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 0, "pool_timeout": 60},
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def server(race_app):
    server = make_server("127.0.0.1", 0, race_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _one_slot_of_five(app) -> int:
    from app.regions.service import create_region
    from app.stations.service import create_station

    with app.app_context():
        city = create_region(code="C1", name="测试市", parent=None)
        district = create_region(code="D1", name="测试区", parent=city)
        town = create_region(code="T1", name="测试镇", parent=district)
        village = create_region(code="V1", name="测试村", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "测试联络站", "address": "测试路1号"}
        )
        reception = Reception(
            station=station,
            date=local_now().date() + timedelta(days=7),
            start=time(9),
            end=time(10),
            kind="service_day",
            slot_minutes=30,
            slot_capacity=CAPACITY,
            status="announced",
        )
        db.session.add(reception)
        db.session.commit()
        return reception.id


@pytest.mark.real_commits
def test_hundred_concurrent_api_bookings_fill_exactly_five_seats(race_app, server):
    reception_id = _one_slot_of_five(race_app)
    http = requests.Session()
    tokens = []
    for i in range(RESIDENTS):
        response = http.post(
            f"{server}/api/v1/auth/login", json={"code": f"race-{i}-{uuid.uuid4().hex}"}, timeout=10
        )
        assert response.status_code == 200, response.text
        tokens.append(response.json()["token"])

    barrier = threading.Barrier(RESIDENTS)
    outcomes: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def book(i: int) -> None:
        body = {
            "reception_id": reception_id,
            "slot_start": "09:00",
            "name": f"居民{i}",
            "mobile": f"139{i:08d}",
            "topic": "加装电梯",
        }
        barrier.wait(timeout=30)
        try:
            response = requests.post(
                f"{server}/api/v1/bookings",
                json=body,
                headers={"Authorization": f"Bearer {tokens[i]}"},
                timeout=60,
            )
            result = (response.status_code, response.json())
        except Exception as exc:  # any other outcome fails the test below
            result = (0, {"exception": repr(exc)})
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(RESIDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    statuses = [status for status, _ in outcomes]
    assert len(outcomes) == RESIDENTS
    assert sorted(set(statuses)) == [201, 409], outcomes
    assert statuses.count(201) == CAPACITY and statuses.count(409) == RESIDENTS - CAPACITY
    for status, body in outcomes:
        if status == 409:
            assert body["error"]["code"] == "slot_full"
            assert "已约满" in body["error"]["message"]
        else:
            assert body["status"] == "booked" and len(body["code"]) == 8
    with race_app.app_context():
        reception = db.session.get(Reception, reception_id)
        assert slot_usage(reception)[time(9)] == CAPACITY
        seats = db.session.scalars(db.select(Booking.seat).where(Booking.reception_id == reception_id)).all()
        assert sorted(seats) == list(range(1, CAPACITY + 1))

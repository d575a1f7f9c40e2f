"""Twenty phones press 确认预约 for one slot of three seats at the same moment, through the page.

On PostgreSQL, as in production (SQLite, the embedded single-user mode, serialises writers
and is not a concurrency target; the service-level 100-way race runs on PostgreSQL too).
"""

from __future__ import annotations

import re
import threading
from datetime import time, timedelta

import pytest

from app.deputies.service import create_deputy
from app.extensions import db
from app.receptions.bookings import slot_usage
from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
from app.regions.service import create_region
from app.stations.service import create_station, place_deputy
from app.timeutil import local_now

PHONES = 20
SEATS = 3


@pytest.fixture
def pg_app(pg_databases, tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import make_test_app

    app = make_test_app(
        pg_databases.create("h5race"),
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": PHONES, "max_overflow": 0, "pool_timeout": 60},
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.real_commits
def test_concurrent_bookings_through_the_page_never_overfill(pg_app):
    with pg_app.app_context():
        city = create_region(code="C9", name="测试市", parent=None)
        district = create_region(code="D9", name="测试区", parent=city)
        town = create_region(code="T9", name="测试镇", parent=district)
        village = create_region(code="V9", name="测试村", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "测试联络站", "address": "测试路1号"}
        )
        deputy = create_deputy(
            region=city,
            data={"name": "陈立"},
            mandates=[{"level": "city", "term": "第十七届", "start_year": 2022}],
        )
        place_deputy(station, deputy)
        reception = Reception(
            station=station,
            date=local_now().date() + timedelta(days=7),
            start=time(9),
            end=time(10),
            kind="service_day",
            slot_minutes=30,
            slot_capacity=SEATS,
            status=ReceptionStatus.ANNOUNCED,
        )
        reception.duties = [ReceptionDuty(deputy=deputy)]
        db.session.add(reception)
        db.session.commit()
        code, reception_id = station.code, reception.id
        db.session.remove()

    # Each phone opens the form first (CSRF is on here), then all submit together.
    phones = []
    for n in range(PHONES):
        phone = pg_app.test_client()
        phone.environ_base["REMOTE_ADDR"] = f"10.77.0.{n + 1}"
        form = phone.get(f"/s/{code}/book").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        phones.append((phone, token))

    barrier = threading.Barrier(PHONES)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def press(phone, token, n):
        barrier.wait(timeout=30)
        response = phone.post(
            f"/s/{code}/book",
            data={
                "csrf_token": token,
                "slot": f"{reception_id}@09:00",
                "name": f"居民{n}",
                "mobile": f"139{n:08d}",
            },
        )
        with lock:
            outcomes.append((response.status_code, response.get_data(as_text=True)))

    threads = [
        threading.Thread(target=press, args=(phone, token, n)) for n, (phone, token) in enumerate(phones)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [303] * SEATS + [409] * (PHONES - SEATS), statuses
    assert all("已约满" in html for status, html in outcomes if status == 409)
    with pg_app.app_context():
        assert slot_usage(db.session.get(Reception, reception_id))[time(9)] == SEATS
        db.session.remove()

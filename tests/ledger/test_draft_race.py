"""Never two drafts for one reception: the sweep and staff racing on PostgreSQL end with one activity."""

from __future__ import annotations

import threading
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import Activity
from app.ledger.service import draft_from_reception
from app.receptions.models import Reception, ReceptionDuty
from tests.conftest import make_test_app

RACERS = 8


@pytest.fixture
def race_app(pg_databases):
    from flask_migrate import upgrade

    app = make_test_app(pg_databases.create("ledgerrace"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.real_commits
def test_concurrent_drafts_make_one_activity(race_app):
    from app.deputies.service import create_deputy
    from app.regions.service import create_region
    from app.stations.service import create_station, place_deputy

    with race_app.app_context():
        city = create_region(code="C1", name="测试市", parent=None)
        district = create_region(code="D1", name="测试区", parent=city)
        town = create_region(code="T1", name="测试镇", parent=district)
        village = create_region(code="V1", name="测试村", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "测试联络站", "address": "测试路1号"}
        )
        deputy = create_deputy(
            region=city,
            data={"name": "测试代表"},
            mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
        )
        place_deputy(station, deputy)
        reception = Reception(
            station=station,
            date=date(2026, 3, 17),
            start=time(9),
            end=time(11),
            kind="service_day",
            status="announced",
        )
        reception.duties = [ReceptionDuty(deputy=deputy)]
        db.session.add(reception)
        db.session.commit()
        reception_id = reception.id

    barrier = threading.Barrier(RACERS)
    ids: list[int] = []
    errors: list[BaseException] = []

    def racer() -> None:
        with race_app.app_context():
            try:
                target = db.session.get(Reception, reception_id)
                barrier.wait()
                activity, _ = draft_from_reception(target, now=datetime(2026, 3, 17, 12))
                db.session.commit()
                ids.append(activity.id)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(ids) == RACERS and len(set(ids)) == 1
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).where(Activity.reception_id == reception_id)) == 1

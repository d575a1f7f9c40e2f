"""``seed_demo`` on the test database: the demo is seeded once for this module.

The module keeps one connection with an outer transaction holding the seeded demo; each test
runs in a savepoint inside it that is rolled back afterwards (this module's ``db_session``
replaces the suite-wide one), so tests still see a clean demo and leave nothing behind.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from app.auth.models import StaffUser
from app.auth.scope import get_visible, scope_of
from app.auth.service import authenticate, can_manage_station, can_manage_unit
from app.demo import wuxi
from app.demo.service import seed_demo
from app.deputies.models import Deputy, Mandate
from app.errors import Forbidden
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Placement, Station
from app.units.models import HandlingUnit

MODELS = (Region, HandlingUnit, Deputy, Mandate, Station, Placement, StaffUser)
USERNAMES = ("city", "district", "town", "station", "unit", "deputy")


def _bind_session(connection):
    from flask_sqlalchemy.session import _app_ctx_id

    return scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
    )


@pytest.fixture(scope="module")
def demo(app):
    """One connection holding the seeded demo in an uncommitted outer transaction."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = _bind_session(connection)
        try:
            report = seed_demo(app.config["DEMO_PASSWORD"])
            db.session.commit()  # releases the session's savepoint only
        except BaseException:
            outer.rollback()
            connection.close()
            raise
        finally:
            db.session.remove()
            db.session = original
    yield connection, report
    outer.rollback()
    connection.close()


@pytest.fixture(autouse=True)
def db_session(app, demo):
    connection, _ = demo
    with app.app_context():
        savepoint = connection.begin_nested()
        original = db.session
        db.session = _bind_session(connection)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if savepoint.is_active:
                savepoint.rollback()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _counts() -> dict[str, int]:
    return {model.__name__: _count(model) for model in MODELS}


def _users() -> dict[str, StaffUser]:
    return {
        u.username: u for u in db.session.scalars(select(StaffUser).where(StaffUser.username.in_(USERNAMES)))
    }


def test_first_run_wrote_the_whole_demo(demo):
    _, report = demo
    assert report.changed
    assert report.tallies["regions"].created >= 1 + 7 + 40
    assert report.tallies["users"].created == 6
    assert all(t.existing == 0 for t in report.tallies.values())
    assert [login.username for login in report.logins] == list(USERNAMES)


def test_counts_meet_the_minimums():
    city = db.session.scalar(select(Region).where(Region.code == wuxi.CITY_CODE))
    assert city.name == "无锡市" and city.level == "city"
    assert _count(Region, Region.level == "district") == 7
    assert _count(Region, Region.level == "town") >= 40
    assert _count(Region, Region.level == "village") >= 80
    assert _count(Station) >= 120
    kinds = dict(db.session.execute(select(Station.kind, func.count()).group_by(Station.kind)).tuples().all())
    assert set(kinds) == {"home", "station", "point"}
    assert _count(Deputy) >= 400
    levels = set(db.session.scalars(select(Mandate.level).distinct()))
    assert levels == {"national", "provincial", "city", "district", "town"}
    assert _count(HandlingUnit) >= 7 * 5


def test_every_deputy_is_placed():
    unplaced = select(Deputy.id).where(~select(Placement.id).where(Placement.deputy_id == Deputy.id).exists())
    assert db.session.scalars(unplaced).all() == []
    several = select(Placement.deputy_id).group_by(Placement.deputy_id).having(func.count() > 1)
    assert len(db.session.scalars(several).all()) >= 50


def test_every_region_has_its_station():
    homes = {s.region_id for s in db.session.scalars(select(Station).where(Station.kind == "home"))}
    stations = {s.region_id for s in db.session.scalars(select(Station).where(Station.kind == "station"))}
    for region in db.session.scalars(select(Region)):
        if region.level == "village":
            assert region.id in stations, region
        else:
            assert region.id in homes, region
    for district in db.session.scalars(select(Region).where(Region.level == "district")):
        home = db.session.scalar(
            select(Station).where(Station.region_id == district.id, Station.kind == "home")
        )
        assert home.name == f"{district.name}人大代表之家"
        assert home.level == "district"


def test_higher_level_deputies_sit_at_district_and_town_homes():
    for level in ("national", "provincial", "city"):
        deputies = db.session.scalars(select(Deputy).join(Mandate).where(Mandate.level == level)).all()
        assert deputies
        for deputy in deputies:
            assert any(s.kind == "home" and s.level in ("city", "district", "town") for s in deputy.stations)


def test_stations_are_inside_wuxi_and_described():
    for station in db.session.scalars(select(Station)):
        assert Decimal("31.10") <= station.lat <= Decimal("31.95"), station
        assert Decimal("119.50") <= station.lng <= Decimal("120.65"), station
        assert re.fullmatch(r"0510-8\d{7}", station.phone)
        assert station.address and station.intro and station.opening_hours
        assert station.area_m2 >= (60 if station.kind == "home" else 20)
        assert station.is_active


def test_workplace_points_carry_their_approval():
    points = db.session.scalars(select(Station).where(Station.kind == "point", Station.at_workplace)).all()
    assert len(points) >= 7
    for point in points:
        assert point.approval_authority.endswith("人大常委会")
        assert re.fullmatch(r".+〔\d{4}〕\d+号", point.approval_no)
        assert point.approval_date is not None
        assert point.host_deputy is not None and point.host_deputy in point.deputies
        assert point.host_deputy.unit in point.name
        assert all(deputy.name not in point.name for deputy in point.deputies)


def test_demo_accounts_fit_together(app):
    users = _users()
    password = app.config["DEMO_PASSWORD"]
    for username in USERNAMES:
        assert authenticate(username, password) is not None, username
    city, district, town = users["city"].region, users["district"].region, users["town"].region
    assert (city.code, city.level) == ("320200", "city")
    assert (district.name, district.level) == ("梁溪区", "district")
    assert town.level == "town" and town.parent_id == district.id
    station = users["station"].station
    assert station.kind == "station" and station.region.is_within(town)
    unit = users["unit"].unit
    assert unit.region_id == district.id
    deputy = users["deputy"].deputy
    assert station in deputy.stations
    # And the console scope agrees: each admin reaches the station, the district its unit.
    for admin in ("city", "district", "town"):
        assert can_manage_station(users[admin], station)
        assert get_visible(Station, station.id, users[admin]) is not None
    assert can_manage_unit(users["district"], unit)
    assert scope_of(users["deputy"]).deputy_id == deputy.id


def test_second_run_changes_nothing(app):
    before = _counts()
    codes = sorted(db.session.execute(select(Station.code, Station.name)).tuples())
    hashes = {u.username: u.password_hash for u in _users().values()}

    report = seed_demo(app.config["DEMO_PASSWORD"])
    db.session.flush()

    assert not report.changed
    assert all(t.created == 0 for t in report.tallies.values())
    assert report.passwords_updated == []
    assert _counts() == before
    assert sorted(db.session.execute(select(Station.code, Station.name)).tuples()) == codes
    assert {u.username: u.password_hash for u in _users().values()} == hashes


def test_a_new_demo_password_is_the_only_change(app):
    before = _counts()
    report = seed_demo("another-pass-2027")
    db.session.flush()
    assert sorted(report.passwords_updated) == sorted(USERNAMES)
    assert _counts() == before
    assert authenticate("town", "another-pass-2027") is not None
    assert authenticate("town", app.config["DEMO_PASSWORD"]) is None


def test_seed_demo_refuses_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    with pytest.raises(Forbidden):
        seed_demo(app.config["DEMO_PASSWORD"])


def test_cli_rerun_prints_the_logins(runner, demo):
    _, report = demo
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "未做任何更改" in result.output
    for username in USERNAMES:
        assert re.search(rf"^\s+{username}\s", result.output, re.M)
    assert f"http://jzd.test/s/{report.demo_station_code}" in result.output


def test_demo_station_page_shows_its_deputies(client, demo):
    _, report = demo
    response = client.get(f"/s/{report.demo_station_code}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert report.demo_station_name in page
    assert _users()["deputy"].deputy.name in page


def test_every_demo_service_day_is_on_a_working_day():
    """The demo's history follows the rule it demonstrates: a third Tuesday that is a holiday
    (春节 2026: 2月17日) was held on the working day it moved to."""
    from app.receptions.models import Reception, ReceptionKind
    from app.receptions.service import service_day_for
    from app.workdays.service import is_workday

    held = db.session.execute(
        select(Reception.date, Reception.service_month).where(Reception.kind == ReceptionKind.SERVICE_DAY)
    ).all()
    assert len(held) > 12
    assert [day for day, _month in held if not is_workday(day)] == []
    assert all(day == service_day_for(day.year, int(month[5:]))[0] for day, month in held if month)

"""The 星级评定 demo: four sheets, one per workflow state, written through the real workflow; idempotent."""

from __future__ import annotations

from app.auth.models import Role
from app.demo.rating import seed_ratings
from app.rating.models import RatingSheet
from app.timeutil import local_now


def test_demo_sheets_in_every_state(year, make_user, make_station, db_session):
    village = year.station.region
    town, district = village.parent, village.parent.parent
    stations = [year.station] + [make_station(village, name=f"演示联络站{n}") for n in range(3)]
    make_user(Role.STATION_STAFF, year.station, username="station")
    make_user(Role.TOWN_ADMIN, town, username="town")
    make_user(Role.DISTRICT_ADMIN, district, username="district")
    make_user(Role.CITY_ADMIN, district.parent, username="city")
    assert seed_ratings(stations) == 4
    sheets = {s.station_id: s for s in db_session.query(RatingSheet).filter_by(year=local_now().year)}
    states = [sheets[s.id].state for s in stations]
    assert states == ["draft", "submitted", "recommended", "decided"]
    assert sheets[stations[0].id].scores  # half of the self-assessment entered
    assert [s.action for s in sheets[stations[3].id].steps] == ["submit", "recommend", "decide"]
    assert seed_ratings(stations) == 0

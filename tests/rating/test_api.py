"""``GET /api/v1/staff/ratings/<year>/<station_code>``: the issue's contract shape, scope and not_rated."""

from __future__ import annotations

import pytest

from app.api.staff.tokens import issue_staff_token
from app.auth.models import Role
from tests.rating.year import AUTO_TOTAL, EXPECTED, YEAR


def headers(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_staff_token(user)}"}


@pytest.fixture
def district_admin(year, make_user):
    return make_user(Role.DISTRICT_ADMIN, year.station.region.parent.parent)


def test_contract_shape(client, year, district_admin):
    response = client.get(
        f"/api/v1/staff/ratings/{YEAR}/{year.station.code}", headers=headers(district_admin)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert {"station_code", "year", "items", "groups", "bonus", "total", "level"} <= body.keys()
    assert body["station_code"] == year.station.code and body["year"] == YEAR
    assert len(body["items"]) == 44
    for item in body["items"]:
        assert {"key", "group", "title", "max", "score", "auto", "evidence"} <= item.keys()
    by_key = {item["key"]: item for item in body["items"]}
    for key, score in EXPECTED.items():
        assert by_key[key]["auto"] is True and by_key[key]["score"] == float(score)
        assert by_key[key]["evidence"]
    assert [(g["name"], g["max"]) for g in body["groups"]] == [
        ("功能配套", 30),
        ("制度建设", 20),
        ("联系群众", 25),
        ("作用发挥", 25),
        ("加分项目", 10),
    ]
    # The live year (the fixture is 2025, scored as of today: the year is over).
    assert body["total"] == float(AUTO_TOTAL)
    assert body["bonus"] == 0 and body["level"] == "none"


def test_outside_the_scope_is_not_found(client, year, make_user, make_region):
    stranger = make_user(Role.DISTRICT_ADMIN, make_region(make_region(None, "外市"), "外区"))
    response = client.get(f"/api/v1/staff/ratings/{YEAR}/{year.station.code}", headers=headers(stranger))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_without_token_401(client, year):
    assert client.get(f"/api/v1/staff/ratings/{YEAR}/{year.station.code}").status_code == 401


def test_district_home_is_not_rated(client, make_region, make_station, make_user):
    district = make_region(make_region(None, "某市"), "某区")
    home = make_station(district, kind="home", name="某区人大代表之家")
    admin = make_user(Role.DISTRICT_ADMIN, district)
    response = client.get(f"/api/v1/staff/ratings/{YEAR}/{home.code}", headers=headers(admin))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_rated"


def test_units_may_not_read_sheets(client, year, make_unit, make_user):
    unit_user = make_user(Role.UNIT_STAFF, make_unit(year.station.region))
    response = client.get(f"/api/v1/staff/ratings/{YEAR}/{year.station.code}", headers=headers(unit_user))
    assert response.status_code == 403

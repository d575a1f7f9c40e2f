"""Where and when: nearby stations, who is on duty, receptions with their slots."""

from __future__ import annotations

from datetime import date, time

import pytest
from openapi_schema_validator import OAS30Validator

from app.extensions import db
from app.receptions.bookings import book_slot
from app.receptions.models import ReceptionStatus
from tests.api.conftest import NOW, add_reception

RECEPTION_KEYS = {
    "id",
    "station_code",
    "date",
    "start",
    "end",
    "kind",
    "kind_label",
    "topic",
    "under_way",
    "bookable",
    "deputies",
    "slots",
}


def _validator(client, name: str) -> OAS30Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


# --- nearby ---------------------------------------------------------------------------------


@pytest.fixture
def map_of_stations(region_tree, make_station):
    tree = region_tree()
    stations = {
        "here": make_station(tree["village_a"], "station", name="近处联络站", lat="31.5700", lng="120.3000"),
        "near": make_station(tree["village_b"], "station", name="稍远联络站", lat="31.5800", lng="120.3000"),
        "far": make_station(tree["district_b"], "home", name="远处之家", lat="31.9000", lng="120.6000"),
        "closed": make_station(tree["town_a"], "home", name="已撤销之家", lat="31.5701", lng="120.3000"),
        "nowhere": make_station(tree["town_b"], "home", name="无坐标之家"),
    }
    stations["closed"].status = "closed"
    db.session.commit()
    return stations


def test_nearby_is_nearest_first_with_distance(client, map_of_stations):
    s = map_of_stations
    response = client.get("/api/v1/stations/nearby?lat=31.5701&lng=120.3001")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["code"] for item in body["items"]] == [s["here"].code, s["near"].code, s["far"].code]
    assert body["total"] == 3
    distances = [item["distance_m"] for item in body["items"]]
    assert distances == sorted(distances)
    assert distances[0] < 30
    assert 1000 < distances[1] < 1200  # 0.01° of latitude ≈ 1.1 km
    assert body["items"][0]["location"] == {"lat": 31.57, "lng": 120.3}
    _validator(client, "NearbyList").validate(body)


def test_nearby_limit(client, map_of_stations):
    body = client.get("/api/v1/stations/nearby?lat=31.57&lng=120.30&limit=1").get_json()
    assert [item["code"] for item in body["items"]] == [map_of_stations["here"].code]


def test_nearby_takes_the_same_search_as_the_official_account(client, map_of_stations, monkeypatch):
    calls = []
    import app.api.stations as api_stations
    from app.wechat.service import nearest_stations

    def spy(lat, lng, limit=3):
        calls.append((lat, lng, limit))
        return nearest_stations(lat, lng, limit)

    monkeypatch.setattr(api_stations, "nearest_stations", spy)
    client.get("/api/v1/stations/nearby?lat=31.57&lng=120.30&limit=2")
    assert calls == [(31.57, 120.30, 2)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lng=120.3", "lat"),
        ("lat=31.5", "lng"),
        ("lat=91&lng=120", "lat"),
        ("lat=31&lng=-181", "lng"),
        ("lat=abc&lng=120", "lat"),
        ("lat=NaN&lng=120", "lat"),
        ("lat=31&lng=inf", "lng"),
        ("lat=31&lng=120&limit=0", "limit"),
        ("lat=31&lng=120&limit=21", "limit"),
    ],
)
def test_nearby_bad_coordinates_are_422(client, query, field):
    response = client.get(f"/api/v1/stations/nearby?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


# --- on duty --------------------------------------------------------------------------------


def test_duty_now_and_next(client, clock, site):
    r = site["receptions"]
    response = client.get(f"/api/v1/stations/{site['station'].code}/duty")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"now", "next"}
    now = body["now"]
    assert set(now) == RECEPTION_KEYS
    assert now["id"] == r["now"].id
    assert now["under_way"] is True
    assert (now["date"], now["start"], now["end"]) == ("2026-12-01", "07:30", "09:00")
    assert now["kind"] == "topic" and now["kind_label"] == "专题接待"
    assert [d["name"] for d in now["deputies"]] == ["周敏"]
    # 07:30 and 08:00 have started at 08:00; 08:30 is still open.
    assert [(s["start"], s["open"]) for s in now["slots"]] == [
        ("07:30", False),
        ("08:00", False),
        ("08:30", True),
    ]
    assert [item["id"] for item in body["next"]] == [r["service_day"].id, r["no_booking"].id, r["later"].id]
    _validator(client, "Duty").validate(body)


def test_duty_without_receptions(client, clock, region_tree, make_station):
    station = make_station(region_tree()["village_a"])
    body = client.get(f"/api/v1/stations/{station.code}/duty").get_json()
    assert body == {"now": None, "next": []}
    _validator(client, "Duty").validate(body)


@pytest.mark.parametrize("code", ["zzzzzz", "%00", "x" * 40])
def test_duty_of_unknown_station_is_404(client, code):
    response = client.get(f"/api/v1/stations/{code}/duty")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- receptions -----------------------------------------------------------------------------


def test_receptions_default_to_the_next_30_days_announced_only(client, clock, site):
    r = site["receptions"]
    response = client.get(f"/api/v1/stations/{site['station'].code}/receptions")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [r["now"].id, r["service_day"].id, r["no_booking"].id]
    assert body["total"] == 3
    day = body["items"][1]
    assert set(day) == RECEPTION_KEYS
    assert day == day | {
        "station_code": site["station"].code,
        "date": "2026-12-15",
        "start": "09:00",
        "end": "10:30",
        "kind": "service_day",
        "kind_label": "代表联系服务群众日",
        "topic": "代表联系服务群众日",
        "under_way": False,
        "bookable": True,
    }
    assert [d["name"] for d in day["deputies"]] == ["陈立", "周敏"]
    assert day["deputies"][0]["public_contact"] == "0510-1234567"
    assert day["slots"] == [
        {"start": "09:00", "end": "09:30", "capacity": 2, "booked": 0, "available": 2, "open": True},
        {"start": "09:30", "end": "10:00", "capacity": 2, "booked": 0, "available": 2, "open": True},
        {"start": "10:00", "end": "10:30", "capacity": 2, "booked": 0, "available": 2, "open": True},
    ]
    no_booking = body["items"][2]
    assert no_booking["slots"] == [] and no_booking["bookable"] is False
    _validator(client, "ReceptionList").validate(body)


def test_receptions_count_booked_seats(client, clock, site):
    reception = site["receptions"]["service_day"]
    for resident in ("oA", "oB"):
        book_slot(
            reception=reception,
            slot_start=time(9),
            resident_id=resident,
            name="张三",
            mobile="13812345678",
            now=NOW,
        )
    book_slot(
        reception=reception, slot_start=time(10), resident_id="oC", name="李四", mobile="13812345679", now=NOW
    )
    body = client.get(
        f"/api/v1/stations/{site['station'].code}/receptions?from=2026-12-15&to=2026-12-15"
    ).get_json()
    (item,) = body["items"]
    assert [(s["booked"], s["available"], s["open"]) for s in item["slots"]] == [
        (2, 0, False),
        (0, 2, True),
        (1, 1, True),
    ]
    assert item["bookable"] is True


def test_receptions_in_a_range(client, clock, site):
    r = site["receptions"]
    code = site["station"].code
    body = client.get(f"/api/v1/stations/{code}/receptions?from=2026-11-01&to=2027-03-01").get_json()
    assert [item["id"] for item in body["items"]] == [
        r["past"].id,
        r["now"].id,
        r["service_day"].id,
        r["no_booking"].id,
        r["later"].id,
    ]
    only_from = client.get(f"/api/v1/stations/{code}/receptions?from=2027-01-15").get_json()
    assert [item["id"] for item in only_from["items"]] == [r["later"].id]
    assert client.get(f"/api/v1/stations/{code}/receptions?from=2026-12-02&to=2026-12-14").get_json() == {
        "items": [],
        "total": 0,
    }


def test_cancelled_receptions_are_not_listed(client, clock, site):
    extra = add_reception(
        site["station"], site["deputies"], day=date(2026, 12, 10), status=ReceptionStatus.CANCELLED
    )
    body = client.get(f"/api/v1/stations/{site['station'].code}/receptions").get_json()
    assert extra.id not in [item["id"] for item in body["items"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01", "from"),
        ("from=tomorrow", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2027-12-31", "to"),
        ("from=1999-12-31", "from"),
        ("to=9999-12-31", "to"),
    ],
)
def test_bad_dates_are_422(client, site, query, field):
    response = client.get(f"/api/v1/stations/{site['station'].code}/receptions?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


def test_receptions_of_a_suspended_station_are_404(client, site):
    site["station"].status = "suspended"
    db.session.commit()
    response = client.get(f"/api/v1/stations/{site['station'].code}/receptions")
    assert response.status_code == 404
    assert "暂停开放" in response.get_json()["error"]["message"]

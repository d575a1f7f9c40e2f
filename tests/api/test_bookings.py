"""``/api/v1/bookings``: book, list one's own, cancel; full slots and strangers' bookings."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from openapi_schema_validator import OAS30Validator

from app.extensions import db
from app.receptions.bookings import slot_usage
from app.receptions.models import Booking, ReceptionStatus

BOOKING_KEYS = {
    "code",
    "status",
    "status_label",
    "slot_start",
    "slot_end",
    "name",
    "mobile",
    "topic",
    "cancellable",
    "created_at",
    "reception",
}


def _validator(client, name: str) -> OAS30Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def _body(reception, **changes) -> dict:
    body = {
        "reception_id": reception.id,
        "slot_start": "09:00",
        "name": "张阿姨",
        "mobile": "13812345678",
        "topic": "小区加装电梯",
    }
    body.update(changes)
    return body


@pytest.fixture
def day(site):
    return site["receptions"]["service_day"]


def test_book_a_slot(client, clock, site, day, sign_in):
    headers = sign_in()
    response = client.post("/api/v1/bookings", json=_body(day), headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == BOOKING_KEYS
    assert len(body["code"]) == 8
    assert body | {"code": None, "created_at": None, "reception": None} == {
        "code": None,
        "status": "booked",
        "status_label": "已预约",
        "slot_start": "09:00",
        "slot_end": "09:30",
        "name": "张阿姨",
        "mobile": "138****5678",  # masked in every answer, like the H5 booking page
        "topic": "小区加装电梯",
        "cancellable": True,
        "created_at": None,
        "reception": None,
    }
    assert body["created_at"].endswith("+08:00")
    assert body["reception"] == {
        "id": day.id,
        "date": "2026-12-15",
        "start": "09:00",
        "end": "10:30",
        "kind": "service_day",
        "kind_label": "代表联系服务群众日",
        "topic": "代表联系服务群众日",
        "status": "announced",
        "status_label": "已公告",
        "station": {
            "code": site["station"].code,
            "name": "清扬社区人大代表联络站",
            "address": "清扬路 100 号",
        },
    }
    booking = db.session.scalar(db.select(Booking).where(Booking.code == body["code"]))
    assert booking.channel == "miniapp"
    assert booking.resident_id.startswith("o")
    assert slot_usage(day)[time(9)] == 1
    _validator(client, "Booking").validate(body)


def test_topic_is_optional(client, clock, day, sign_in):
    body = _body(day)
    del body["topic"]
    response = client.post("/api/v1/bookings", json=body, headers=sign_in())
    assert response.status_code == 201
    assert response.get_json()["topic"] == ""


def test_full_slot_is_409_slot_full(client, clock, day, sign_in):
    for name in ("a", "b"):
        assert client.post("/api/v1/bookings", json=_body(day), headers=sign_in(name)).status_code == 201
    response = client.post("/api/v1/bookings", json=_body(day), headers=sign_in("c"))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_full"
    assert "已约满" in error["message"]
    _validator(client, "Error").validate(response.get_json())
    # Another slot of the same reception still has seats.
    assert (
        client.post("/api/v1/bookings", json=_body(day, slot_start="09:30"), headers=sign_in("c")).status_code
        == 201
    )


def test_one_active_booking_per_reception(client, clock, day, sign_in):
    headers = sign_in()
    code = client.post("/api/v1/bookings", json=_body(day), headers=headers).get_json()["code"]
    response = client.post("/api/v1/bookings", json=_body(day, slot_start="10:00"), headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "already_booked"
    assert code in error["message"]


@pytest.mark.parametrize(
    ("which", "status"),
    [("draft", 404), ("cancelled", 404), ("missing", 404), ("suspended_station", 404)],
)
def test_unbookable_receptions(client, clock, site, sign_in, which, status):
    reception = site["receptions"]["service_day"]
    reception_id = reception.id
    if which == "draft":
        reception_id = site["receptions"]["draft"].id
    elif which == "cancelled":
        reception.status = ReceptionStatus.CANCELLED
    elif which == "missing":
        reception_id = 2**31 - 1
    else:
        site["station"].status = "suspended"
    db.session.commit()
    response = client.post(
        "/api/v1/bookings", json=_body(reception, reception_id=reception_id), headers=sign_in()
    )
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mobile": "1381234567"}, "mobile"),
        ({"mobile": "23812345678"}, "mobile"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 33}, "name"),
        ({"slot_start": "9:00"}, "slot_start"),
        ({"slot_start": "09:15"}, "slot_start"),  # not a slot of this reception
        ({"slot_start": "11:00"}, "slot_start"),
        ({"topic": "事" * 201}, "topic"),
        ({"topic": "a\x00b"}, "topic"),
        ({"reception_id": "12"}, "reception_id"),
        ({"reception_id": 0}, "reception_id"),
        ({"reception_id": 2**40}, "reception_id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_booking_input_is_422(client, clock, day, sign_in, changes, field):
    response = client.post("/api/v1/bookings", json=_body(day, **changes), headers=sign_in())
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert not db.session.scalars(db.select(Booking)).all()


def test_missing_fields_are_422(client, clock, sign_in):
    response = client.post("/api/v1/bookings", json={}, headers=sign_in())
    assert response.status_code == 422
    assert {"reception_id", "slot_start", "name", "mobile"} <= set(response.get_json()["error"]["fields"])


def test_started_slot_cannot_be_booked(client, clock, site, sign_in):
    now_reception = site["receptions"]["now"]
    started = client.post(
        "/api/v1/bookings", json=_body(now_reception, slot_start="07:30"), headers=sign_in()
    )
    assert started.status_code == 422
    assert "已开始" in started.get_json()["error"]["message"]
    later = client.post("/api/v1/bookings", json=_body(now_reception, slot_start="08:30"), headers=sign_in())
    assert later.status_code == 201


def test_mine_lists_only_ones_own(client, clock, site, day, sign_in):
    me, neighbour = sign_in("me"), sign_in("neighbour")
    mine = client.post("/api/v1/bookings", json=_body(day), headers=me).get_json()["code"]
    later = site["receptions"]["later"]
    mine_later = client.post("/api/v1/bookings", json=_body(later), headers=me).get_json()["code"]
    theirs = client.post("/api/v1/bookings", json=_body(day, name="邻居"), headers=neighbour).get_json()[
        "code"
    ]

    body = client.get("/api/v1/bookings/mine", headers=me).get_json()
    assert [item["code"] for item in body["items"]] == [mine_later, mine]  # newest reception first
    assert body["total"] == 2
    _validator(client, "BookingList").validate(body)
    other = client.get("/api/v1/bookings/mine", headers=neighbour).get_json()
    assert [item["code"] for item in other["items"]] == [theirs]
    assert "张阿姨" not in str(other)


def test_cancel_own_booking_frees_the_seat(client, clock, day, sign_in):
    me = sign_in("me")
    code = client.post("/api/v1/bookings", json=_body(day), headers=me).get_json()["code"]
    client.post("/api/v1/bookings", json=_body(day), headers=sign_in("b"))

    response = client.delete(f"/api/v1/bookings/{code}", headers=me)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["code"], body["status"], body["status_label"], body["cancellable"]) == (
        code,
        "cancelled",
        "已取消",
        False,
    )
    _validator(client, "Booking").validate(body)
    assert slot_usage(day)[time(9)] == 1
    assert client.post("/api/v1/bookings", json=_body(day), headers=sign_in("c")).status_code == 201
    # Cancelled stays in the resident's list, and cannot be cancelled twice.
    assert client.get("/api/v1/bookings/mine", headers=me).get_json()["items"][0]["status"] == "cancelled"
    again = client.delete(f"/api/v1/bookings/{code}", headers=me)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "not_cancellable"
    # And the resident may book this reception again.
    assert client.post("/api/v1/bookings", json=_body(day, slot_start="10:00"), headers=me).status_code == 201


def test_cancel_is_case_insensitive(client, clock, day, sign_in):
    me = sign_in()
    code = client.post("/api/v1/bookings", json=_body(day), headers=me).get_json()["code"]
    assert client.delete(f"/api/v1/bookings/{code.lower()}", headers=me).status_code == 200


def test_someone_elses_booking_is_404(client, clock, day, sign_in):
    code = client.post("/api/v1/bookings", json=_body(day), headers=sign_in("owner")).get_json()["code"]
    response = client.delete(f"/api/v1/bookings/{code}", headers=sign_in("stranger"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert db.session.scalar(db.select(Booking).where(Booking.code == code)).status == "booked"


@pytest.mark.parametrize("code", ["NOSUCH23", "%00", "x" * 40, "%E4%B8%AD"])
def test_unknown_booking_codes_are_404(client, sign_in, code):
    response = client.delete(f"/api/v1/bookings/{code}", headers=sign_in())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_no_cancel_once_the_slot_started(client, clock, site, sign_in, monkeypatch):
    me = sign_in()
    code = client.post(
        "/api/v1/bookings", json=_body(site["receptions"]["now"], slot_start="08:30"), headers=me
    ).get_json()["code"]
    monkeypatch.setattr("app.api.bookings.local_now", lambda: datetime(2026, 12, 1, 8, 31))
    listed = client.get("/api/v1/bookings/mine", headers=me).get_json()["items"][0]
    assert listed["cancellable"] is False
    response = client.delete(f"/api/v1/bookings/{code}", headers=me)
    assert response.status_code == 409
    assert "已开始" in response.get_json()["error"]["message"]


def test_get_on_a_booking_is_405(client, sign_in):
    response = client.get("/api/v1/bookings/ABCDEFGH", headers=sign_in())
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"

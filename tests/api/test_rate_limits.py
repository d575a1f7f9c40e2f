"""Floods of bookings and opinions are stopped per resident and per client address, in our shape."""

from __future__ import annotations

import pytest

from tests.api.conftest import next_address


@pytest.fixture
def tight(app, monkeypatch):
    """Limits small enough to reach in a test."""
    for name, value in {
        "API_LIMIT_OPINION_RESIDENT": "2/minute",
        "API_LIMIT_OPINION_ADDRESS": "5/minute",
        "API_LIMIT_BOOKING_RESIDENT": "2/minute",
        "API_LIMIT_BOOKING_ADDRESS": "5/minute",
    }.items():
        monkeypatch.setitem(app.config, name, value)


def _opinion(client, headers, station):
    return client.post(
        "/api/v1/opinions", json={"station_code": station.code, "content": "路灯坏了很久了"}, headers=headers
    )


def test_opinions_per_resident(client, site, sign_in, tight):
    me = sign_in("me")
    assert [_opinion(client, me, site["station"]).status_code for _ in range(3)] == [201, 201, 429]
    response = _opinion(client, me, site["station"])
    assert response.status_code == 429
    assert response.get_json()["error"] == {
        "code": "too_many_requests",
        "message": "操作过于频繁，请稍后再试。",
    }
    assert int(response.headers["Retry-After"]) > 0
    # Another resident from the same address is not held back by this one.
    assert _opinion(client, sign_in("neighbour"), site["station"]).status_code == 201


def test_opinions_per_address(app, client, site, sign_in, tight):
    statuses = [_opinion(client, sign_in(f"r{i}"), site["station"]).status_code for i in range(6)]
    assert statuses == [201] * 5 + [429]
    # The same residents from another address are fine again.
    client.environ_base["REMOTE_ADDR"] = next_address()
    assert _opinion(client, sign_in("r9"), site["station"]).status_code == 201


def test_bookings_per_resident(client, clock, site, sign_in, tight):
    me = sign_in()
    day = site["receptions"]["service_day"]

    def book(slot):
        body = {"reception_id": day.id, "slot_start": slot, "name": "张三", "mobile": "13812345678"}
        return client.post("/api/v1/bookings", json=body, headers=me).status_code

    # Refused attempts count too: a flood is a flood.
    assert [book("09:00"), book("09:30"), book("10:00")] == [201, 409, 429]


def test_reading_is_not_limited(client, site, sign_in, tight):
    me = sign_in()
    assert {client.get("/api/v1/opinions/mine", headers=me).status_code for _ in range(10)} == {200}


def test_unauthenticated_floods_do_not_reach_the_limits(client, site, tight):
    statuses = {
        client.post(
            "/api/v1/opinions", json={"station_code": site["station"].code, "content": "x" * 10}
        ).status_code
        for _ in range(10)
    }
    assert statuses == {401}

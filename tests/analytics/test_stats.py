"""The figures equal those computed from the raw rows; each user sees only their own region's."""

from __future__ import annotations

import pytest

from app.analytics.kpi import Filters, totals
from app.auth.scope import scope_of
from tests.analytics.data import expected, period_of

CONTRACT = [
    "received",
    "accepted",
    "closed",
    "overdue",
    "on_time_accept_rate",
    "on_time_close_rate",
    "feedback_rate",
    "satisfaction_rate",
]


def _params(place, **extra) -> dict:
    first, last = period_of(place.data.d0, place.today)
    return {"from": first.isoformat(), "to": last.isoformat(), **extra}


def test_district_numbers_equal_the_raw_rows(client, place, staff_token):
    headers = staff_token(place.users["district_a"])
    response = client.get("/api/v1/staff/stats", query_string=_params(place), headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert sorted(body) == sorted(CONTRACT)
    want = expected(place.data.a, place.today)
    for key in CONTRACT:
        assert body[key] == pytest.approx(want[key]), key
    # The same numbers written out, so a shared mistake in both computations still fails.
    assert (body["received"], body["accepted"], body["closed"], body["overdue"]) == (8, 5, 3, 1)
    assert body["on_time_accept_rate"] == pytest.approx(4 / 6)
    assert body["on_time_close_rate"] == pytest.approx(1 / 3)
    assert body["feedback_rate"] == pytest.approx(4 / 5)
    assert body["satisfaction_rate"] == pytest.approx(2 / 3)


def test_close_days_average_and_p90(place):
    first, last = period_of(place.data.d0, place.today)
    c = totals(scope_of(place.users["district_a"]), Filters(first, last), place.today)
    want = expected(place.data.a, place.today)
    assert c.avg_close_days == pytest.approx(want["avg_close_days"]) == pytest.approx(32 / 3)
    assert c.p90_close_days == want["p90_close_days"] == 20


def test_a_district_admin_never_sees_the_other_district(client, place, staff_token):
    headers = staff_token(place.users["district_a"])
    b_code = place.tree["district_b"].code
    response = client.get("/api/v1/staff/stats", query_string=_params(place, region=b_code), headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = client.get(
        "/api/v1/staff/stats", query_string=_params(place, station=place.station_b.code), headers=headers
    )
    assert response.status_code == 404
    # B's admin gets B's numbers only.
    body = client.get(
        "/api/v1/staff/stats", query_string=_params(place), headers=staff_token(place.users["district_b"])
    ).get_json()
    want = expected(place.data.b, place.today)
    assert {k: body[k] for k in CONTRACT} == pytest.approx({k: want[k] for k in CONTRACT})


def test_city_sees_both_and_filters_narrow(client, place, staff_token):
    headers = staff_token(place.users["city"])
    body = client.get("/api/v1/staff/stats", query_string=_params(place), headers=headers).get_json()
    want = expected(place.data.a + place.data.b, place.today)
    assert {k: body[k] for k in CONTRACT} == pytest.approx({k: want[k] for k in CONTRACT})
    body = client.get(
        "/api/v1/staff/stats", query_string=_params(place, station=place.station_b.code), headers=headers
    ).get_json()
    assert body["received"] == 3
    body = client.get(
        "/api/v1/staff/stats",
        query_string=_params(place, region=place.tree["district_a"].code),
        headers=headers,
    ).get_json()
    assert body["received"] == 8


def test_station_staff_sees_its_station(client, place, staff_token):
    body = client.get(
        "/api/v1/staff/stats", query_string=_params(place), headers=staff_token(place.users["station_a"])
    ).get_json()
    assert body["received"] == 8


def test_empty_period_has_null_rates(client, place, staff_token):
    headers = staff_token(place.users["district_a"])
    body = client.get(
        "/api/v1/staff/stats", query_string={"from": "2001-01-01", "to": "2001-01-31"}, headers=headers
    ).get_json()
    assert body == {k: (0 if k in ("received", "accepted", "closed", "overdue") else None) for k in CONTRACT}


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"from": "2026-05-01", "to": "2026-04-01"},
        {"region": "../x"},
        {"station": "a b"},
    ],
)
def test_bad_parameters_are_422(client, place, staff_token, query):
    response = client.get("/api/v1/staff/stats", query_string=query, headers=staff_token(place.users["city"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"]
    response = client.get(
        "/api/v1/staff/stats/hotwords", query_string=query, headers=staff_token(place.users["city"])
    )
    assert response.status_code == 422


def test_stats_need_a_token(client, place):
    assert client.get("/api/v1/staff/stats").status_code == 401
    assert client.get("/api/v1/staff/stats/hotwords").status_code == 401


def test_the_api_documents_both_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/staff/stats" in paths and "/api/v1/staff/stats/hotwords" in paths


def test_defaults_are_the_last_twelve_months(client, place, staff_token):
    headers = staff_token(place.users["district_a"])
    assert client.get("/api/v1/staff/stats", headers=headers).get_json()["received"] == 8
    body = client.get("/api/v1/staff/stats", query_string={"to": place.today.isoformat()}, headers=headers)
    assert body.get_json()["received"] == 8
    old = client.get("/api/v1/staff/stats", query_string={"to": "2020-06-30"}, headers=headers)
    assert old.status_code == 200 and old.get_json()["received"] == 0


def test_region_table_rows_equal_the_raw_rows(place):
    from app.analytics.service import region_table, trend

    first, last = period_of(place.data.d0, place.today)
    f = Filters(first, last)
    _months, rows = region_table(place.users["city"], f, place.today)
    by_label = {row.label: row for row in rows}
    for label, opinions in (("A区", place.data.a), ("B区", place.data.b)):
        want = expected(opinions, place.today)
        got = by_label[label].counters
        assert (got.received, got.accepted, got.closed, got.overdue) == (
            want["received"],
            want["accepted"],
            want["closed"],
            want["overdue"],
        )
        assert got.on_time_close_rate == pytest.approx(want["on_time_close_rate"])
        assert sum(by_label[label].spark) == want["received"]
    series = trend(scope_of(place.users["city"]), f, place.today)
    assert sum(series["received"]) == 11


def _spread(station, today, counts: dict[int, int]) -> list:
    """Opinions at ``station``, ``counts[days_ago]`` of them that many days before today, with
    every third closed, every third with the unit and overdue, the rest pending."""
    from datetime import timedelta

    from tests.analytics.data import add, at

    made = []
    for days_ago, n in counts.items():
        day = today - timedelta(days=days_ago)
        for i in range(n):
            fields = {"status": "pending", "accept_due": day + timedelta(days=2)}
            if i % 3 == 0:  # closed the same day, satisfied
                fields.update(status="closed", accepted_at=at(day, 15), deadline=day + timedelta(days=15))
                fields.update(replied_at=at(day, 16), closed_at=at(day, 17), satisfaction="satisfied")
            elif i % 3 == 1:  # with the unit, past its deadline
                fields.update(status="assigned", accepted_at=at(day, 15), deadline=day + timedelta(days=1))
            made.append(add(station, at(day, 9 + i % 8), **fields))
    return made


@pytest.mark.parametrize("store", ["live", "stored", "stored with a changed month"])
def test_region_table_puts_each_station_in_its_row(place, make_region, make_station, store):
    """Two towns with stations and a station on the district itself: each row's counters and
    sparkline equal a recount of its own stations' opinions, and the overview's trend from the
    same row × month grouping equals the trend counted on its own."""
    from datetime import timedelta

    from app.analytics.kpi import month_start, months_between, split_period
    from app.analytics.refresh import refresh_aggregates
    from app.analytics.service import region_grouping, region_table, trend
    from app.extensions import db
    from app.models_base import utcnow
    from tests.analytics.data import add, at, local_day

    today, district = place.today, place.tree["district_a"]
    town_2 = make_region(district, "A二镇")
    village_2 = make_region(town_2, "A二村")
    second = make_station(village_2, name="A二村联络站")
    third = make_station(village_2, name="A二村第二联络站")
    own = make_station(district, name="A区代表之家")
    made = {
        "A镇": place.data.a + _spread(place.station_a, today, {70: 2}),
        "A二镇": _spread(second, today, {65: 4, 35: 1, 3: 2}) + _spread(third, today, {40: 5}),
        "A区代表之家": _spread(own, today, {75: 1, 10: 3}),
    }
    if store != "live":
        for opinion in [o for mine in made.values() for o in mine] + place.data.b:
            opinion.updated_at = utcnow() - timedelta(days=30)
        db.session.flush()
        refresh_aggregates()
    if store == "stored with a changed month":  # that month is counted live, the others stored
        changed = add(third, at(today - timedelta(days=65)), accept_due=today, updated_at=utcnow())
        made["A二镇"].append(changed)
    db.session.flush()

    user = place.users["district_a"]
    scope = scope_of(user)
    f = Filters(month_start(today - timedelta(days=80)), today)
    months = months_between(f.date_from, f.date_to)
    stored, _live = split_period(scope, f, today)
    from_store = {"live": 0, "stored": len(months), "stored with a changed month": len(months) - 1}
    assert len(stored) == from_store[store]
    got_months, rows = region_table(user, f, today)
    assert got_months == months
    assert [row.label for row in rows] == ["A二镇", "A镇", "A区代表之家"]  # most received first
    for row in rows:
        mine = made[row.label]
        want = expected(mine, today)
        got = row.counters
        assert (got.received, got.accepted, got.closed, got.overdue) == (
            want["received"],
            want["accepted"],
            want["closed"],
            want["overdue"],
        ), row.label
        assert got.on_time_accept_rate == pytest.approx(want["on_time_accept_rate"]), row.label
        assert got.on_time_close_rate == pytest.approx(want["on_time_close_rate"]), row.label
        assert got.satisfaction_rate == pytest.approx(want["satisfaction_rate"]), row.label
        spark = [sum(1 for o in mine if month_start(local_day(o.created_at)) == m) for m in months]
        assert row.spark == spark, row.label
    assert rows[0].region == town_2 and rows[2].station.id == own.id

    # The overview feeds the trend from the same grouping.
    table, grouped = region_grouping(user, f, today)
    assert len(grouped) <= len(table) * len(months)  # one entry per row and month at most
    assert trend(scope, f, today, grouped) == trend(scope, f, today)
    assert sum(trend(scope, f, today)["received"]) == sum(len(mine) for mine in made.values())

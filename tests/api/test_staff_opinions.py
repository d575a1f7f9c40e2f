"""``GET /api/v1/staff/opinions`` and ``/opinions/<no>``: the console inbox's filters and scope, as JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from app.opinions.models import OPINION_STATUS_LABELS
from tests.api.staff_world import staff_token_fixture, staff_world_fixture  # noqa: F401

LIST = "/api/v1/staff/opinions"
ITEM_KEYS = {
    "tracking_no",
    "status",
    "status_label",
    "station_code",
    "category",
    "unit_code",
    "deadline",
    "overdue",
    "created_at",
}


@pytest.fixture
def spread(staff_world):
    """Opinions: pending, assigned to A's unit, guided to the court, at A's second station and at B."""
    w = staff_world
    opinions = {
        "pending": w.new(
            "一号楼门前的积水一直没有人处理",
            deputy=w.deputy,
            contact_name="王小明",
            contact_mobile="13912345678",
        ),
        "assigned": w.to(w.new("菜市场周边的占道经营影响通行"), "assigned"),
        "court": w.new("邻里纠纷的判决一直没有执行到位"),
        "other": w.new("二村的健身器材损坏需要维修", station=w.other_station),
        "foreign": w.new("B村的路面塌陷需要尽快修复", station=w.foreign_station),
    }
    court = opinions["court"]
    w.to(court, "classified")
    court.unit = w.court  # as the guide step records a judicial unit to feed back
    court.status = "guided"
    court.deadline = date(2020, 1, 6)
    db.session.commit()
    return opinions


def _list(client, headers, **params):
    response = client.get(LIST, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _numbers(body) -> set[str]:
    return {item["tracking_no"] for item in body["items"]}


def _nos(spread, *keys) -> set[str]:
    return {spread[key].tracking_no for key in keys}


def test_item_shape(client, staff_world, spread, staff_token):
    body = _list(client, staff_token(staff_world.users["district"]), status="assigned")
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    (item,) = body["items"]
    assert set(item) >= ITEM_KEYS
    opinion = spread["assigned"]
    assert item["tracking_no"] == opinion.tracking_no
    assert item["status"] == "assigned"
    assert item["status_label"] == OPINION_STATUS_LABELS["assigned"] == "已交办"
    assert item["station_code"] == staff_world.station.code
    assert item["category"] == "urban"
    assert item["category_name"] == "城乡建设"
    assert item["unit_code"] == staff_world.unit.code
    assert item["deadline"] == opinion.deadline.isoformat()
    assert item["overdue"] is False
    assert datetime.fromisoformat(item["created_at"]).utcoffset().total_seconds() == 8 * 3600


def test_scope_per_role(client, staff_world, spread, staff_token):
    w = staff_world
    seen = {key: _numbers(_list(client, staff_token(w.users[key]))) for key in w.users}
    a_side = _nos(spread, "pending", "assigned", "court", "other")
    assert seen["city"] == a_side | _nos(spread, "foreign")
    assert seen["district"] == a_side
    assert seen["town"] == a_side
    assert seen["station"] == _nos(spread, "pending", "assigned", "court")
    assert seen["other_station"] == _nos(spread, "other")
    assert (
        seen["foreign_station"] == seen["foreign_district"] == seen["foreign_town"] == _nos(spread, "foreign")
    )
    # A unit sees only what is assigned to it now.
    assert seen["unit"] == _nos(spread, "assigned")
    assert seen["court"] == _nos(spread, "court")
    assert seen["foreign_unit"] == set()
    # A deputy: what was received through them.
    assert seen["deputy"] == _nos(spread, "pending")
    assert seen["foreign_deputy"] == set()


def test_filters(client, staff_world, spread, staff_token):
    w = staff_world
    headers = staff_token(w.users["district"])
    assert _numbers(_list(client, headers, status="pending")) == _nos(spread, "pending", "other")
    assert _numbers(_list(client, headers, status="open")) == _nos(spread, "pending", "assigned", "other")
    assert _numbers(_list(client, headers, station=w.station.code)) == _nos(
        spread, "pending", "assigned", "court"
    )
    assert _numbers(_list(client, headers, station=w.other_station.code)) == _nos(spread, "other")
    assert _numbers(_list(client, headers, unit=w.unit.code)) == _nos(spread, "assigned")
    assert _numbers(_list(client, headers, unit=w.court.code)) == _nos(spread, "court")
    assert _numbers(_list(client, headers, overdue="1")) == _nos(spread, "court")
    assert _numbers(_list(client, headers, q="占道")) == _nos(spread, "assigned")
    # The tracking number, typed by hand in lower case, finds it too.
    assert _numbers(_list(client, headers, q=spread["other"].tracking_no.lower())) == _nos(spread, "other")
    assert _numbers(_list(client, headers, region=w.tree["village_a"].code)) == _nos(
        spread, "pending", "assigned", "court"
    )
    assert _numbers(_list(client, headers, category="urban")) == _nos(spread, "assigned", "court")
    assert _numbers(_list(client, headers, channel="h5", status="guided")) == _nos(spread, "court")
    # What waits for this role, and what waits too long for 受理.
    assert _numbers(_list(client, headers, todo="1")) == set()
    assert _numbers(_list(client, staff_token(w.users["station"]), todo="1")) == _nos(spread, "pending")
    spread["other"].accept_due = date(2020, 1, 2)
    db.session.commit()
    assert _numbers(_list(client, headers, late="true")) == _nos(spread, "other")
    assert _list(client, headers, late="true")["items"][0]["late"] is True
    # Filters never widen the scope: a foreign station, unit or region is simply empty.
    for params in (
        {"station": w.foreign_station.code},
        {"unit": w.foreign_unit.code},
        {"region": w.tree["district_b"].code},
        {"station": "NOSUCH"},
        {"unit": "NO-SUCH"},
        {"region": "NOSUCH"},
    ):
        assert _list(client, headers, **params) == {"items": [], "total": 0, "page": 1, "per_page": 20}, (
            params
        )


def test_date_range_is_on_the_local_created_date(client, staff_world, spread, staff_token):
    # 2026-03-01 23:30 in Beijing is 15:30 UTC: it belongs to the 1st, not the 2nd.
    spread["pending"].created_at = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    spread["other"].created_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 3-02 00:30 local
    db.session.commit()
    headers = staff_token(staff_world.users["town"])
    assert _numbers(_list(client, headers, **{"from": "2026-03-01", "to": "2026-03-01"})) == _nos(
        spread, "pending"
    )
    assert _numbers(_list(client, headers, **{"from": "2026-03-02", "to": "2026-03-02"})) == _nos(
        spread, "other"
    )
    assert _numbers(_list(client, headers, to="2026-03-31")) == _nos(spread, "pending", "other")
    assert spread["assigned"].tracking_no in _numbers(_list(client, headers, **{"from": "2026-04-01"}))


def test_paging(client, staff_world, spread, staff_token):
    headers = staff_token(staff_world.users["city"])
    first = _list(client, headers, per_page=2, sort="oldest")
    second = _list(client, headers, per_page=2, page=2, sort="oldest")
    third = _list(client, headers, per_page=2, page=3, sort="oldest")
    assert first["total"] == second["total"] == third["total"] == 5
    assert [len(p["items"]) for p in (first, second, third)] == [2, 2, 1]
    assert _numbers(first) | _numbers(second) | _numbers(third) == _nos(spread, *spread)
    beyond = _list(client, headers, per_page=2, page=9)
    assert beyond["items"] == [] and beyond["total"] == 5


def test_most_urgent_first_by_default(client, staff_world, spread, staff_token):
    spread["assigned"].deadline = date(2020, 1, 3)
    db.session.commit()
    items = _list(client, staff_token(staff_world.users["district"]))["items"]
    # The open opinion furthest past its deadline leads; then acceptance clocks.
    assert items[0]["tracking_no"] == spread["assigned"].tracking_no
    assert items[0]["overdue"] is True
    assert {items[1]["tracking_no"], items[2]["tracking_no"]} == _nos(spread, "pending", "other")


@pytest.mark.parametrize(
    "params",
    [
        {"status": "waiting"},
        {"station": "a b"},
        {"unit": "x" * 33},
        {"overdue": "perhaps"},
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"q": "x" * 65},
        {"q": "a\x01b"},
        {"page": "0"},
        {"page": "x"},
        {"per_page": "101"},
        {"sort": "random"},
        {"channel": "fax"},
    ],
)
def test_bad_params_are_422(client, staff_world, staff_token, params):
    response = client.get(LIST, query_string=params, headers=staff_token(staff_world.users["city"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"]


def test_detail_masks_the_contact_and_shows_the_timeline(client, staff_world, spread, staff_token):
    opinion = spread["pending"]
    response = client.get(f"{LIST}/{opinion.tracking_no}", headers=staff_token(staff_world.users["station"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["contact"] == {"name": "王**", "mobile": "139****5678"}
    text = response.get_data(as_text=True)
    assert "王小明" not in text and "13912345678" not in text
    assert body["content"] == "一号楼门前的积水一直没有人处理"
    assert body["status"] == "pending" and body["status_label"] == "待受理"
    assert body["events"] == [
        {
            "action": "submit",
            "action_label": "提交",
            "from": None,
            "to": "pending",
            "actor": body["events"][0]["actor"],
            "at": body["events"][0]["at"],
            "note": body["events"][0]["note"],
        }
    ]
    assert set(body["actions"]) == {"accept", "reject"}
    assert body["legal"] is False and body["major"] is False and body["late"] is False
    assert body["owner"] == {"code": staff_world.tree["town_a"].code, "name": staff_world.tree["town_a"].name}


def test_detail_without_contact_is_null(client, staff_world, spread, staff_token):
    response = client.get(
        f"{LIST}/{spread['assigned'].tracking_no}", headers=staff_token(staff_world.users["unit"])
    )
    body = response.get_json()
    assert body["contact"] is None
    assert [e["action"] for e in body["events"]] == ["submit", "accept", "classify", "assign"]
    assert body["events"][1]["from"] == "pending" and body["events"][1]["to"] == "accepted"
    assert body["events"][1]["actor"] == f"staff:{staff_world.users['station'].username}"
    assert set(body["actions"]) == {"reply", "return"}


def test_tracking_number_is_read_as_residents_type_it(client, staff_world, spread, staff_token):
    number = spread["pending"].tracking_no
    typed = f"{number[:4].lower()}-{number[4:]}"
    response = client.get(f"{LIST}/{typed}", headers=staff_token(staff_world.users["town"]))
    assert response.status_code == 200 and response.get_json()["tracking_no"] == number


@pytest.mark.parametrize(
    "who", ["foreign_station", "foreign_district", "foreign_unit", "other_station", "unit"]
)
def test_outside_the_scope_is_404(client, staff_world, spread, staff_token, who):
    response = client.get(
        f"{LIST}/{spread['pending'].tracking_no}", headers=staff_token(staff_world.users[who])
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert spread["pending"].content not in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["NOSUCHNUMBER", "x" * 40, "%00", "中文"])
def test_unknown_numbers_are_404(client, staff_world, staff_token, number):
    response = client.get(f"{LIST}/{number}", headers=staff_token(staff_world.users["city"]))
    assert response.status_code == 404

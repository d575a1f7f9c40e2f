"""Role × own/foreign over every staff API route: what is outside the caller's scope is not there.

Each side (A and B) has three opinions received through its deputy: pending, classified and
assigned to its unit. For every role on side A, every route answers about A's opinions as the
role allows, and about B's as if they did not exist: not listed, 404 to open or act on, no
trace of them (number, content, station, unit) in any body.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.api.staff_world import StaffWorld, staff_token_fixture, staff_world_fixture  # noqa: F401

ROLES = ["station", "town", "district", "city", "unit", "deputy"]
STAGES = ["pending", "classified", "assigned"]
# Which of its side's opinions each role sees, and the action it may take on one of them.
SEES = {
    "station": set(STAGES),
    "town": set(STAGES),
    "district": set(STAGES),
    "city": set(STAGES),
    "unit": {"assigned"},
    "deputy": set(STAGES),
}
ACTS = {
    "station": ("pending", "accept", {}),
    "town": ("classified", "assign", {"unit_code": "UNIT"}),
    "district": ("classified", "assign", {"unit_code": "UNIT"}),
    "city": ("classified", "escalate", {}),
    "unit": ("assigned", "reply", {"text": "已安排维修。"}),
    "deputy": ("pending", "accept", {}),  # refused: deputies follow, they do not handle
}


@pytest.fixture
def sides(staff_world: StaffWorld) -> dict[str, dict]:
    w = staff_world
    out = {}
    for side, station, deputy in (("a", w.station, w.deputy), ("b", w.foreign_station, None)):
        if deputy is None:
            deputy = w.users["foreign_deputy"].deputy
        opinions = {}
        for stage in STAGES:
            opinion = w.new(
                f"{side.upper()}侧{stage}留言：小区路灯坏了两个星期", station=station, deputy=deputy
            )
            if stage != "pending":
                w.to(opinion, stage)
            opinions[stage] = opinion
        out[side] = opinions
    db.session.commit()
    return out


def _traces(w: StaffWorld, opinions: dict) -> list[str]:
    """What of side B must never show to side A."""
    texts = [w.foreign_station.code, w.foreign_station.name, w.foreign_unit.code, w.foreign_unit.name]
    for opinion in opinions.values():
        texts += [opinion.tracking_no, opinion.content]
    return texts


def _clean(response, traces) -> None:
    text = response.get_data(as_text=True)
    for trace in traces:
        assert trace not in text, trace


@pytest.fixture
def as_role(client, staff_world, staff_token):
    def do(role: str):
        headers = staff_token(staff_world.users[role])

        def call(method: str, path: str, **kw):
            return getattr(client, method)(f"/api/v1/staff{path}", headers=headers, **kw)

        return call

    return do


@pytest.mark.parametrize("role", ROLES)
def test_own_side(staff_world, sides, as_role, role):
    call = as_role(role)
    own = sides["a"]
    listed = {item["tracking_no"] for item in call("get", "/opinions").get_json()["items"]}
    expected = {own[stage].tracking_no for stage in SEES[role]}
    if role == "city":  # both districts are the city's own
        expected |= {opinion.tracking_no for opinion in sides["b"].values()}
    assert listed == expected
    for stage, opinion in own.items():
        response = call("get", f"/opinions/{opinion.tracking_no}")
        assert response.status_code == (200 if stage in SEES[role] else 404), stage
    stage, action, params = ACTS[role]
    params = {k: (staff_world.unit.code if v == "UNIT" else v) for k, v in params.items()}
    response = call("post", f"/opinions/{own[stage].tracking_no}/actions", json={"action": action, **params})
    assert response.status_code == (403 if role == "deputy" else 200), response.get_json()
    assert call("get", "/me").get_json()["username"] == staff_world.users[role].username
    assert call("get", "/categories").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_foreign_side_is_not_there(staff_world, sides, as_role, role):
    w = staff_world
    call = as_role(role)
    foreign = sides["b"]
    traces = [] if role == "city" else _traces(w, foreign)
    responses = [
        call("get", "/me"),
        call("get", "/opinions"),
        call("get", "/opinions", query_string={"status": "open", "per_page": 100}),
        call("get", "/opinions", query_string={"station": w.foreign_station.code}),
        call("get", "/opinions", query_string={"unit": w.foreign_unit.code}),
        call("get", "/opinions", query_string={"region": w.tree["district_b"].code}),
        call("get", "/opinions", query_string={"q": "B侧"}),
        call("get", "/categories"),
        call("get", "/units"),
    ]
    for stage, opinion in foreign.items():
        detail = call("get", f"/opinions/{opinion.tracking_no}")
        _, action, params = ACTS[role] if ACTS[role][0] == stage else ("", "accept", {})
        params = {k: (w.foreign_unit.code if v == "UNIT" else v) for k, v in params.items()}
        if role == "city":
            assert detail.status_code == 200
            continue
        acted = call("post", f"/opinions/{opinion.tracking_no}/actions", json={"action": action, **params})
        assert detail.status_code == 404 and detail.get_json()["error"]["code"] == "not_found"
        assert acted.status_code == 404, (stage, acted.get_json())
        responses += [detail, acted]
    for response in responses:
        assert response.status_code in (200, 404), response.get_json()
        _clean(response, traces)
    for opinion in foreign.values():
        db.session.refresh(opinion)
    # Nothing changed on side B.
    assert [foreign[s].status for s in STAGES] == ["pending", "classified", "assigned"]


@pytest.mark.parametrize("role", ["station", "unit", "deputy"])
def test_roles_that_do_not_assign_have_no_units(as_role, staff_world, role):
    assert as_role(role)("get", "/units").get_json() == {"items": []}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("town", {"unit", "court"}),
        ("district", {"unit", "court"}),
        ("foreign_district", {"foreign_unit"}),
        ("city", {"unit", "court", "foreign_unit"}),
    ],
)
def test_units_are_those_the_caller_may_assign_to(as_role, staff_world, role, expected):
    body = as_role(role)("get", "/units").get_json()
    codes = {item["code"] for item in body["items"]}
    assert codes == {getattr(staff_world, name).code for name in expected}
    court = next((i for i in body["items"] if i["code"] == staff_world.court.code), None)
    if court is not None:
        assert court["kind"] == "judicial" and court["name"] == "A区人民法院"


def test_categories_are_the_active_managed_ones(as_role, staff_world):
    from sqlalchemy import select

    from app.opinions.models import Category

    retired = db.session.scalar(select(Category).where(Category.code == "urban"))
    retired.active = False
    db.session.commit()
    items = as_role("deputy")("get", "/categories").get_json()["items"]
    assert items and all(set(item) == {"code", "name", "deadline_workdays"} for item in items)
    assert "urban" not in {item["code"] for item in items}
    active = db.session.scalars(select(Category.code).where(Category.active.is_(True))).all()
    assert {item["code"] for item in items} == set(active)

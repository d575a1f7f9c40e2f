"""``POST /api/v1/staff/opinions/<no>/actions``: every step of the closed loop through the API.

The API drives the pipeline the console drives (``take_action``): the same transitions, the
same refusals (409 ``illegal_transition`` for the status, 403 for the role), the same event
rows and audit entries.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notify.models import AuditEntry
from app.opinions.models import Category
from app.opinions.pipeline import ACTIONS, allowed_actions
from app.opinions.pipeline import rate as resident_rates
from tests.api.staff_world import staff_token_fixture, staff_world_fixture  # noqa: F401
from tests.factories import PASSWORD

DETAIL_KEYS = {"tracking_no", "status", "status_label", "content", "contact", "events", "actions", "deadline"}


@pytest.fixture
def act(client, staff_world, staff_token):
    """Take an action as one of the world's users; returns the response."""
    tokens: dict[str, dict] = {}

    def do(who: str, opinion, action: str, **params):
        if who not in tokens:
            tokens[who] = staff_token(staff_world.users[who])
        return client.post(
            f"/api/v1/staff/opinions/{opinion.tracking_no}/actions",
            json={"action": action, **params},
            headers=tokens[who],
        )

    do.tokens = tokens
    return do


@pytest.fixture
def show(client, staff_world, act, staff_token):
    """An opinion's detail as one of the world's users sees it; returns the response."""

    def do(who: str, opinion):
        if who not in act.tokens:
            act.tokens[who] = staff_token(staff_world.users[who])
        return client.get(f"/api/v1/staff/opinions/{opinion.tracking_no}", headers=act.tokens[who])

    return do


def ok(response) -> dict:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) >= DETAIL_KEYS
    return body


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_the_main_path_to_closed(staff_world, act, show):
    w = staff_world
    opinion = w.new(deputy=w.deputy)
    body = ok(act("station", opinion, "accept"))
    assert body["status"] == "accepted" and body["status_label"] == "已受理"
    assert set(body["actions"]) == {"classify"}
    body = ok(act("station", opinion, "classify", category="urban", legal=False, major=False))
    assert body["status"] == "classified" and body["category"] == "urban"
    body = ok(act("town", opinion, "assign", unit_code=w.unit.code))
    assert body["status"] == "assigned" and body["unit_code"] == w.unit.code
    assert body["deadline"] is not None and body["overdue"] is False
    body = ok(act("district", opinion, "urge", note="请加快办理"))
    assert body["status"] == "assigned"
    body = ok(act("unit", opinion, "reply", text="已安排维修，三日内修复。"))
    assert body["status"] == "replied" and body["reply_text"] == "已安排维修，三日内修复。"
    body = ok(act("station", opinion, "feedback"))
    assert body["status"] == "fed_back" and body["answer_text"] == "已安排维修，三日内修复。"
    resident_rates(opinion, "oRes1", "satisfied", "修好了")
    db.session.commit()
    body = ok(show("station", opinion))
    assert body["status"] == "closed" and body["actions"] == []
    assert [e["action"] for e in body["events"]] == [
        "submit",
        "accept",
        "classify",
        "assign",
        "urge",
        "reply",
        "feedback",
        "rate",
    ]
    users = w.users
    actors = [e["actor"] for e in body["events"] if e["actor"].startswith("staff:")]
    assert actors == [
        f"staff:{users[k].username}" for k in ("station", "station", "town", "district", "unit", "station")
    ]


def test_reject_needs_a_reason_the_resident_sees(staff_world, act):
    opinion = staff_world.new()
    error = refused(act("station", opinion, "reject"), 422, "validation_failed")
    assert "reason" in error["fields"]
    body = ok(act("station", opinion, "reject", reason="不属于受理范围"))
    assert body["status"] == "rejected" and body["answer_text"] == "不属于受理范围"


def test_classify_with_flags_then_guide_the_legal_one(staff_world, act):
    w = staff_world
    opinion = w.to(w.new(), "accepted")
    refused(act("station", opinion, "classify", category="no-such"), 422, "validation_failed")
    body = ok(act("station", opinion, "classify", category="urban", legal=True))
    assert body["legal"] is True and body["major"] is False
    # 涉法涉诉 is guided to the legal channel, never assigned to a unit.
    refused(act("town", opinion, "assign", unit_code=w.unit.code), 409, "illegal_transition")
    body = ok(act("town", opinion, "guide", text="请向 A 区人民法院申请执行。", unit_code=w.court.code))
    assert body["status"] == "guided" and body["unit_code"] == w.court.code
    body = ok(act("court", opinion, "reply", text="已立案执行。"))
    assert body["status"] == "replied"


def test_guide_only_a_legal_opinion(staff_world, act):
    opinion = staff_world.to(staff_world.new(), "classified")
    error = refused(act("town", opinion, "guide", text="请依法反映。"), 409, "illegal_transition")
    assert "涉法涉诉" in error["message"]


def test_convert_a_major_opinion_to_a_deputy_suggestion(staff_world, act):
    w = staff_world
    opinion = w.new(deputy=w.deputy)
    w.to(opinion, "accepted")
    ok(act("station", opinion, "classify", category="urban", major=True))
    body = ok(act("district", opinion, "convert", deputy_ids=[w.deputy.id], note="列入代表建议"))
    assert body["status"] == "converted" and body["status_label"] == "已转为代表建议"


def test_escalate_hands_it_up_and_only_upward_may_work_it(staff_world, act):
    w = staff_world
    opinion = w.to(w.new(), "classified")
    body = ok(act("town", opinion, "escalate", note="涉及全区"))
    assert body["status"] == "escalated"
    assert body["owner"]["code"] == w.tree["district_a"].code
    # The town reported it: now the district (or above) owns it.
    refused(act("town", opinion, "assign", unit_code=w.unit.code), 403, "forbidden")
    body = ok(act("district", opinion, "assign", unit_code=w.unit.code))
    assert body["status"] == "assigned"


def test_merge_into_another_opinion(staff_world, act):
    w = staff_world
    first, duplicate = w.new(), w.new("同一处路灯坏了，晚上很黑")
    error = refused(act("town", duplicate, "merge", into="NOSUCHNUMBER"), 422, "validation_failed")
    assert "into" in error["fields"]
    foreign = w.new("B村的路灯也坏了很久", station=w.foreign_station)
    refused(act("town", duplicate, "merge", into=foreign.tracking_no), 422, "validation_failed")
    body = ok(act("town", duplicate, "merge", into=first.tracking_no.lower()))
    assert body["status"] == "merged" and body["merged_into"] == first.tracking_no


def test_a_unit_returns_what_is_not_theirs(staff_world, act, client, staff_token):
    w = staff_world
    opinion = w.to(w.new(), "assigned")
    refused(act("unit", opinion, "return"), 422, "validation_failed")
    body = ok(act("unit", opinion, "return", reason="不属于本单位职责"))
    assert body["status"] == "classified" and body["unit_code"] is None
    # Gone from the unit's view at once.
    response = client.get(
        f"/api/v1/staff/opinions/{opinion.tracking_no}", headers=staff_token(w.users["unit"])
    )
    assert response.status_code == 404


def _second_unsatisfied(w, act, opinion):
    """Fed back, 不满意 (再办理 by the same unit), fed back again, 不满意 again: a supervisor decides."""
    w.to(opinion, "fed_back")
    resident_rates(opinion, "oRes1", "unsatisfied", "还没修")
    db.session.commit()
    assert opinion.status == "assigned"
    ok(act("unit", opinion, "reply", text="再次核实并修复。"))
    ok(act("station", opinion, "feedback"))
    resident_rates(opinion, "oRes1", "unsatisfied", "还是没修")
    db.session.commit()


def test_a_supervisor_reassigns_after_a_second_unsatisfied(staff_world, act, show):
    w = staff_world
    opinion = w.new()
    _second_unsatisfied(w, act, opinion)
    body = ok(show("district", opinion))
    assert body["needs_decision"] is True and {"close", "reassign"} <= set(body["actions"])
    refused(act("district", opinion, "reassign"), 422, "validation_failed")  # needs a note
    body = ok(act("district", opinion, "reassign", note="请再次办理"))
    assert body["status"] == "assigned" and body["needs_decision"] is False


def test_a_supervisor_closes_after_a_second_unsatisfied(staff_world, act):
    w = staff_world
    opinion = w.new()
    _second_unsatisfied(w, act, opinion)
    refused(act("town", opinion, "close"), 422, "validation_failed")  # a decision gives its reason
    body = ok(act("town", opinion, "close", note="经核实已修复，予以办结"))
    assert body["status"] == "closed"
    assert [e["action"] for e in body["events"]][-3:] == ["feedback", "rate", "close"]


def test_a_supervisor_closes_a_guided_opinion(staff_world, act):
    w = staff_world
    opinion = w.to(w.new(), "accepted")
    ok(act("station", opinion, "classify", category="urban", legal=True))
    ok(act("district", opinion, "guide", text="请向人民法院申请执行。"))
    body = ok(act("district", opinion, "close"))
    assert body["status"] == "closed"


def test_national_day_deadline(staff_world, act, monkeypatch):
    """Assigned on 2026-09-30 with 5 working days: due after the National Day holiday."""
    monkeypatch.setattr("app.opinions.pipeline.local_now", lambda: datetime(2026, 9, 30, 10, 0))
    category = db.session.scalar(select(Category).where(Category.code == "urban"))
    category.deadline_workdays = 5
    db.session.commit()
    opinion = staff_world.to(staff_world.new(), "classified")
    body = ok(act("district", opinion, "assign", unit_code=staff_world.unit.code))
    assert body["deadline"] == "2026-10-13"
    assert "2026-10-13 前答复" in body["events"][-1]["note"]


@pytest.mark.parametrize(
    ("reach", "who", "action", "params"),
    [
        (None, "station", "feedback", {}),
        (None, "station", "classify", {"category": "urban"}),
        ("accepted", "station", "accept", {}),
        ("accepted", "town", "assign", {"unit_code": None}),
        ("assigned", "station", "accept", {}),
        ("assigned", "district", "escalate", {}),
        ("replied", "unit", "reply", {"text": "再答复"}),
        ("fed_back", "district", "urge", {"note": "催办"}),
        ("fed_back", "town", "reassign", {"note": "再交办"}),
    ],
)
def test_illegal_transitions_are_409(staff_world, act, reach, who, action, params):
    w = staff_world
    opinion = w.new()
    if reach:
        w.to(opinion, reach)
    before = opinion.status
    events = len(opinion.events)
    if "unit_code" in params:
        params = {"unit_code": w.unit.code}
    error = refused(act(who, opinion, action, **params), 409, "illegal_transition")
    assert error["message"]
    db.session.refresh(opinion)
    assert opinion.status == before and len(opinion.events) == events


@pytest.mark.parametrize(
    ("reach", "who", "action", "params"),
    [
        (None, "deputy", "accept", {}),
        ("assigned", "unit", "urge", {"note": "催办"}),
        ("accepted", "deputy", "classify", {"category": "urban"}),
        ("classified", "station", "assign", {"unit_code": None}),
        ("classified", "station", "escalate", {}),
        ("classified", "station", "merge", {"into": "X"}),
        ("assigned", "town", "reply", {"text": "答复"}),
        ("assigned", "station", "urge", {"note": "催办"}),
        ("replied", "unit", "feedback", {}),
        ("fed_back", "station", "close", {}),
    ],
)
def test_role_refusals_are_403(staff_world, act, reach, who, action, params):
    w = staff_world
    opinion = w.new(deputy=w.deputy)
    if reach:
        w.to(opinion, reach)
    if "unit_code" in params:
        params = {"unit_code": w.unit.code}
    before = opinion.status
    refused(act(who, opinion, action, **params), 403, "forbidden")
    db.session.refresh(opinion)
    assert opinion.status == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "approve"},
        {"action": "rate"},
        {"action": "overdue"},
        {"action": "accept", "colour": "red"},
        {"action": "classify", "legal": "perhaps"},
        {"action": "convert", "deputy_ids": ["x"]},
        {"action": "reply", "text": "a\x00b"},
        {"action": 5},
    ],
)
def test_unknown_actions_and_bad_bodies_are_422(client, staff_world, staff_token, body):
    opinion = staff_world.new()
    response = client.post(
        f"/api/v1/staff/opinions/{opinion.tracking_no}/actions",
        json=body,
        headers=staff_token(staff_world.users["station"]),
    )
    refused(response, 422, "validation_failed")


def test_assign_only_to_units_the_caller_may_use(staff_world, act):
    w = staff_world
    opinion = w.to(w.new(), "classified")
    for code in (w.foreign_unit.code, "NO-SUCH-UNIT"):
        error = refused(act("town", opinion, "assign", unit_code=code), 422, "validation_failed")
        assert "unit_code" in error["fields"]


def test_every_pipeline_action_is_offered(staff_world):
    """The API accepts exactly the pipeline's staff actions (the contract's list, plus close and reassign)."""
    from app.api.staff.schemas import ACTION_NAMES

    contract = {"accept", "reject", "classify", "assign", "reply", "feedback", "urge", "guide", "convert"}
    contract |= {"escalate", "merge", "return"}
    assert set(ACTION_NAMES) == set(ACTIONS) == contract | {"close", "reassign"}


def test_actions_are_audited_as_in_the_console(staff_world, act):
    w = staff_world
    opinion = w.new()
    ok(act("station", opinion, "reject", reason="重复提交"))
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_id == opinion.tracking_no, AuditEntry.action == "opinion.reject"
        )
    )
    assert entry is not None
    assert entry.actor_user_id == w.users["station"].id
    assert "重复提交" in entry.detail


def _console(app, user):
    console = app.test_client()
    response = console.post("/console/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return console


def test_the_api_and_the_console_drive_the_same_rules(app, client, staff_world, act, staff_token):
    w = staff_world
    opinion = w.new()
    # A step through the API shows in the console's timeline, under the same action name.
    ok(act("station", opinion, "accept"))
    station_console = _console(app, w.users["station"])
    page = station_console.get(f"/console/opinions/{opinion.tracking_no}")
    assert page.status_code == 200
    assert "受理" in page.get_data(as_text=True)
    # A step through the console shows in the API's events, under the same action name.
    response = station_console.post(
        f"/console/opinions/{opinion.tracking_no}/actions", data={"action": "classify", "category": "urban"}
    )
    assert response.status_code == 302
    body = client.get(
        f"/api/v1/staff/opinions/{opinion.tracking_no}", headers=staff_token(w.users["town"])
    ).get_json()
    assert [(e["action"], e["from"], e["to"]) for e in body["events"]] == [
        ("submit", None, "pending"),
        ("accept", "pending", "accepted"),
        ("classify", "accepted", "classified"),
    ]
    # Both leave the same kind of audit row.
    actions = set(
        db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == opinion.tracking_no))
    )
    assert {"opinion.accept", "opinion.classify"} <= actions
    # And both refuse alike: the console answers a repeated accept with the same 409.
    again = station_console.post(
        f"/console/opinions/{opinion.tracking_no}/actions", data={"action": "accept"}
    )
    assert again.status_code == 409
    refused(act("station", opinion, "accept"), 409, "illegal_transition")
    # What the API offers is what the console offers: the pipeline's allowed_actions.
    db.session.refresh(opinion)
    assert body["actions"] == allowed_actions(opinion, w.users["town"])
    assert "assign" in body["actions"]

"""``POST /api/v1/staff/receptions`` and ``/api/v1/staff/outbox``: shapes, roles, scope, fan-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.notify.models import AuditEntry, OutboxMessage, OutboxStatus
from app.receptions.models import Reception
from app.timeutil import local_now
from app.wechat.models import StationFollow, Subscriber
from tests.api.staff_world import staff_token_fixture, staff_world_fixture  # noqa: F401

ITEM_KEYS = {"id", "kind", "channel", "openid", "status", "attempts", "last_error", "dedup_key"}


def _day(days: int = 7) -> str:
    return (local_now().date() + timedelta(days=days)).isoformat()


def body(world, **changes) -> dict:
    data = {
        "station_code": world.station.code,
        "date": _day(),
        "start": "09:00",
        "end": "11:30",
        "topic": "听取群众对老旧小区改造的意见",
        "deputies": [world.deputy.id],
        "announce": True,
    }
    data.update(changes)
    return data


def follower(station, openid: str, *, wants: bool = True, subscribed: bool = True) -> Subscriber:
    subscriber = Subscriber(openid=openid, subscribed=subscribed, wants_announcements=wants)
    subscriber.follows = [StationFollow(station_id=station.id)]
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


@pytest.fixture
def post(client, staff_world, staff_token):
    tokens: dict[str, dict] = {}

    def do(who: str, path: str = "/api/v1/staff/receptions", **json):
        if who not in tokens:
            tokens[who] = staff_token(staff_world.users[who])
        return client.post(path, json=json or None, headers=tokens[who])

    return do


@pytest.fixture
def get(client, staff_world, staff_token):
    def do(who: str, path: str):
        return client.get(path, headers=staff_token(staff_world.users[who]))

    return do


# --- POST /receptions ------------------------------------------------------------------------


def test_announcing_queues_one_push_per_willing_follower(staff_world, post):
    willing = [follower(staff_world.station, f"oWilling{i}") for i in range(3)]
    follower(staff_world.station, "oNoNews", wants=False)
    follower(staff_world.station, "oGone", subscribed=False)
    follower(staff_world.other_station, "oElsewhere")
    db.session.commit()

    response = post("station", **body(staff_world))

    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "announced"
    assert data["station_code"] == staff_world.station.code
    assert data["deputies"] == [{"id": staff_world.deputy.id, "name": staff_world.deputy.name}]
    assert (data["start"], data["end"], data["kind"]) == ("09:00", "11:30", "other")
    assert data["pushes_queued"] == 3
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("announce:%"))).all()
    assert sorted(row.openid for row in rows) == sorted(s.openid for s in willing)
    assert {row.dedup_key for row in rows} == {f"announce:{data['id']}:{s.openid}" for s in willing}
    assert {(row.status, row.channel, row.kind) for row in rows} == {("pending", "template", rows[0].kind)}


def test_a_draft_queues_nothing(staff_world, post):
    follower(staff_world.station, "oWilling")
    db.session.commit()
    response = post("town", **body(staff_world, announce=False, deputies=[]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "draft"
    assert response.get_json()["pushes_queued"] == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_optional_fields_are_honoured(staff_world, post):
    changes = {"kind": "topic", "slot_minutes": 20, "slot_capacity": 4, "start": "14:00", "end": "15:00"}
    response = post("district", **body(staff_world, **changes))
    assert response.status_code == 201, response.get_json()
    reception = db.session.get(Reception, response.get_json()["id"])
    assert (reception.kind, reception.slot_minutes, reception.slot_capacity) == ("topic", 20, 4)


@pytest.mark.parametrize("who", ["city", "district", "town", "station"])
def test_who_may_plan_receptions(staff_world, post, who):
    assert post(who, **body(staff_world)).status_code == 201


@pytest.mark.parametrize("who", ["deputy", "unit"])
def test_other_roles_are_refused(staff_world, post, who):
    response = post(who, **body(staff_world))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"]
    assert db.session.scalar(select(func.count()).select_from(Reception)) == 0


@pytest.mark.parametrize("who", ["foreign_station", "foreign_town", "foreign_district", "other_station"])
def test_station_outside_scope_is_not_found(staff_world, post, who):
    response = post(who, **body(staff_world))
    # Another station of the same town is visible to nobody on it but its own staff either.
    assert response.status_code in (403, 404)
    if who.startswith("foreign"):
        assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Reception)) == 0


def test_unknown_station_is_not_found(staff_world, post):
    assert post("city", **body(staff_world, station_code="NOSUCH1")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "2026-13-40"}, "date"),
        ({"date": (local_now().date() - timedelta(days=1)).isoformat()}, "date"),
        ({"start": "25:00"}, "start"),
        ({"end": "08:00"}, "end"),
        ({"deputies": [999999]}, "deputy_ids"),
        ({"deputies": []}, "deputy_ids"),
        ({"kind": "party"}, "kind"),
        ({"slot_minutes": 5}, "slot_minutes"),
        ({"station_code": "../x"}, "station_code"),
    ],
)
def test_bad_input_is_422_in_chinese(staff_world, post, changes, field):
    response = post("station", **body(staff_world, **changes))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    assert db.session.scalar(select(func.count()).select_from(Reception)) == 0


def test_missing_fields_are_422(staff_world, post):
    assert post("station", topic="只有主题").status_code == 422
    assert post("station").status_code == 422


def test_token_required(client, staff_world):
    assert client.post("/api/v1/staff/receptions", json=body(staff_world)).status_code == 401
    assert client.get("/api/v1/staff/outbox").status_code == 401


# --- the outbox ------------------------------------------------------------------------------


def _row(openid: str, status: str = "pending", *, kind: str = "reception_announced", **extra):
    row = OutboxMessage(
        kind=kind,
        channel="template",
        openid=openid,
        template="TPL",
        data={"fields": {}, "url": ""},
        dedup_key=f"test:{openid}:{status}",
        status=status,
        **extra,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_outbox_lists_with_filters_and_counts(staff_world, get):
    _row("oA", "sent")
    dead = _row("oB", "dead", attempts=8, last_error="errcode 99999")
    _row("oC", "pending", kind="opinion_update")
    db.session.commit()

    data = get("city", "/api/v1/staff/outbox").get_json()
    assert data["total"] == 3
    assert set(data["items"][0]) >= ITEM_KEYS
    assert data["counts"] == {"pending": 1, "sent": 1, "undeliverable": 0, "dead": 1, "review": 0}

    data = get("city", "/api/v1/staff/outbox?status=dead").get_json()
    assert [item["id"] for item in data["items"]] == [dead.id]
    assert data["items"][0]["attempts"] == 8
    assert data["items"][0]["last_error"] == "errcode 99999"

    data = get("city", "/api/v1/staff/outbox?kind=opinion_update").get_json()
    assert [item["openid"] for item in data["items"]] == ["oC"]

    data = get("city", "/api/v1/staff/outbox?per_page=2&page=2").get_json()
    assert data["total"] == 3
    assert len(data["items"]) == 1


def test_outbox_bad_status_is_422(staff_world, get):
    assert get("city", "/api/v1/staff/outbox?status=lost").status_code == 422


@pytest.mark.parametrize("who", ["district", "town", "station", "unit", "deputy"])
def test_outbox_is_for_city_admins_only(staff_world, get, post, who):
    row = _row("oSecret", "dead")
    db.session.commit()
    response = get(who, "/api/v1/staff/outbox")
    assert response.status_code == 403
    assert "oSecret" not in response.get_data(as_text=True)
    assert post(who, f"/api/v1/staff/outbox/{row.id}/resend").status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == "dead"


@pytest.mark.parametrize("status", ["dead", "undeliverable"])
def test_resend_resets_the_row_and_audits(staff_world, post, status):
    row = _row("oRetry", status, attempts=5, last_error="errcode 43004")
    row.msgid = "123"
    db.session.commit()

    response = post("city", f"/api/v1/staff/outbox/{row.id}/resend")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "pending"
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert (row.status, row.attempts, row.next_attempt_at, row.msgid) == (OutboxStatus.PENDING, 0, None, None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.resend"))
    assert entry.object_id == str(row.id)
    assert entry.actor_user_id == staff_world.users["city"].id
    assert "43004" in entry.detail


@pytest.mark.parametrize("status", ["pending", "sent"])
def test_resend_refuses_live_rows(staff_world, post, status):
    row = _row("oLive", status)
    db.session.commit()
    response = post("city", f"/api/v1/staff/outbox/{row.id}/resend")
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_resend_unknown_row_is_404(staff_world, post):
    assert post("city", "/api/v1/staff/outbox/987654/resend").status_code == 404


def test_announcing_late_is_made_but_answered_with_a_warning(staff_world, post):
    follower(staff_world.station, "oLateNews")
    db.session.commit()
    late = post("station", **body(staff_world, date=_day(1)))
    assert late.status_code == 201, late.get_json()
    assert late.get_json()["pushes_queued"] == 1
    assert "少于规定的提前 3 天" in late.get_json()["warnings"][0]
    on_time = post("station", **body(staff_world, date=_day(8)))
    assert on_time.get_json()["warnings"] == []

"""公告接待时间: announcing a reception queues one push per follower who wants announcements."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notify.fanout import announce_to_followers
from app.notify.models import OutboxMessage
from app.notify.sender import drain
from app.receptions.service import announce_reception, create_reception
from app.timeutil import local_now
from app.wechat.models import StationFollow, Subscriber
from tests.notify.conftest import sends


def _follow(station, openid: str, *, subscribed: bool = True, wants: bool = True) -> Subscriber:
    subscriber = Subscriber(openid=openid, subscribed=subscribed, wants_announcements=wants)
    subscriber.follows = [StationFollow(station_id=station.id)]
    db.session.add(subscriber)
    return subscriber


def _rows(reception) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dedup_key.like(f"announce:{reception.id}:%"))
        .order_by(OutboxMessage.openid)
    ).all()


def test_announcing_queues_one_push_per_willing_follower(
    app, mock_api, region_tree, make_station, make_deputy
):
    tree = region_tree()
    station = make_station(tree["village_a"], name="健康里联络站")
    other = make_station(tree["village_b"])
    deputy = make_deputy(tree["village_a"], name="王代表", station=station)
    _follow(station, "oFanA000000000000000000000001")
    _follow(station, "oFanB000000000000000000000002")
    _follow(station, "oFanOptOut0000000000000000003", wants=False)
    _follow(station, "oFanGone000000000000000000004", subscribed=False)
    _follow(other, "oFanOther00000000000000000005")
    db.session.flush()
    day = local_now().date() + timedelta(days=7)
    draft = create_reception(
        station,
        {"kind": "topic", "date": day.isoformat(), "start": "14:00", "end": "16:00", "topic": "老旧小区改造"},
        deputy_ids=[deputy.id],
    )
    assert _rows(draft) == []  # a draft tells nobody
    announce_reception(draft)
    rows = _rows(draft)
    assert [r.openid for r in rows] == ["oFanA000000000000000000000001", "oFanB000000000000000000000002"]
    assert all(r.kind == "reception_announced" and r.status == "pending" for r in rows)
    assert rows[0].data["fields"]["thing1"] == "健康里联络站"
    assert rows[0].data["url"].endswith(f"/s/{station.code}")
    # Idempotent: a second fan-out adds nothing.
    announce_to_followers(draft)
    assert len(_rows(draft)) == 2
    db.session.commit()
    assert drain().sent == 2
    delivered = sends(mock_api)
    assert sorted(s["json"]["touser"] for s in delivered) == [r.openid for r in rows]
    assert delivered[0]["json"]["template_id"] == app.config["WECHAT_TEMPLATES"]["reception_announced"]


def test_created_announced_and_generated_days_fan_out(app, region_tree, make_station, make_deputy):
    from app.receptions.service import ServiceDayDefaults, generate_service_days

    tree = region_tree()
    station = make_station(tree["village_a"])
    deputy = make_deputy(tree["village_a"], station=station)
    _follow(station, "oFanGen0000000000000000000001")
    db.session.flush()
    day = local_now().date() + timedelta(days=3)
    at_once = create_reception(
        station,
        {"kind": "topic", "date": day.isoformat(), "start": "09:00", "end": "10:00", "topic": "专题"},
        deputy_ids=[deputy.id],
        announce=True,
    )
    assert len(_rows(at_once)) == 1
    month = (local_now().date().replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    report = generate_service_days(month, ServiceDayDefaults.from_config(app.config))
    mine = [r for r in report.created if r.station_id == station.id]
    if mine and mine[0].status == "announced":
        assert len(_rows(mine[0])) == 1
    else:
        assert mine and _rows(mine[0]) == []  # moved off a holiday: told only once confirmed

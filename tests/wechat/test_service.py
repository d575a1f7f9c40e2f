"""Rules of the official account's data: followers, follows, nearest stations, QR codes."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.wechat.models import StationFollow, Subscriber, TemplateDelivery
from app.wechat.service import (
    distance_m,
    follow_station,
    followed_stations,
    nearest_stations,
    record_template_delivery,
    save_station_qrcode,
    subscribe,
    subscriber_of,
    unsubscribe,
)


@pytest.fixture
def stations(region_tree, make_station):
    village = region_tree()["village_a"]
    return [
        make_station(village, name=f"站点{i}", lat=f"{31.5 + i * 0.01:.4f}", lng="120.3000") for i in range(5)
    ] + [make_station(village, name="无坐标站点")]


def test_distance_is_haversine():
    # One degree of latitude is about 111.2 km anywhere.
    assert distance_m(31.0, 120.0, 32.0, 120.0) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(31.5, 120.3, 31.5, 120.3) == 0


def test_nearest_stations_nearest_first_active_only(stations):
    stations[0].status = "closed"
    found = nearest_stations(31.5305, 120.3, limit=3)
    assert [s.name for s, _ in found] == ["站点3", "站点4", "站点2"]
    assert found[0][1] < found[1][1] < found[2][1]


def test_subscribe_follow_several_and_unsubscribe_keeps_history(stations):
    subscriber = db.session.get(Subscriber, subscribe("oOne", station=stations[1]))
    subscribe("oOne", station=stations[2], via="scan")
    subscribe("oOne", station=stations[1], via="scan")
    assert {s.id for s in followed_stations("oOne")} == {stations[1].id, stations[2].id}
    first = db.session.scalar(select(StationFollow).where(StationFollow.station_id == stations[1].id))
    assert first.via == "qrscene"  # how they first came
    unsubscribe("oOne")
    assert not subscriber_of("oOne").subscribed
    assert len(subscriber.follows) == 2
    stations[2].status = "suspended"
    assert [s.id for s in followed_stations("oOne")] == [stations[1].id]


def test_unsubscribe_of_someone_never_seen_is_recorded():
    assert unsubscribe("oNever").subscribed is False


def test_template_delivery_last_report_wins():
    record_template_delivery(11, "oA", "success")
    record_template_delivery(11, "oA", "failed: system failed")
    rows = db.session.scalars(select(TemplateDelivery).where(TemplateDelivery.msgid == 11)).all()
    assert len(rows) == 1 and rows[0].status == "failed: system failed"


def test_station_qrcode_is_stored_once_per_station(stations):
    save_station_qrcode(stations[0], "T1", "http://weixin.qq.com/q/1")
    qrcode = save_station_qrcode(stations[0], "T2", "http://weixin.qq.com/q/2")
    assert (qrcode.scene, qrcode.ticket) == (stations[0].code, "T2")


def test_follow_station_follows_whatever_the_state_and_says_when_new(stations):
    subscriber = db.session.get(Subscriber, subscribe("oTwo"))
    unsubscribe("oTwo")
    assert follow_station(subscriber, stations[0]) is True
    assert follow_station(subscriber, stations[0]) is False
    assert not subscriber_of("oTwo").subscribed and len(subscriber_of("oTwo").follows) == 1

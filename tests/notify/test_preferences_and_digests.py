"""Follower preferences (退订/订阅, menu, H5) honoured by the fan-out and the weekly digest;
reminders to every placed deputy of a 联系服务群众日; staff digests; late announcements."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.notify.digests import queue_staff_digests, queue_weekly_digests
from app.notify.fanout import late_announcement_warning
from app.notify.models import OutboxMessage
from app.notify.scheduler import planned_reminders, run_sweep
from app.receptions.service import create_reception
from app.timeutil import local_now
from app.wechat.models import StationFollow, Subscriber
from tests.wechat.sender import WeChatSender


@pytest.fixture
def wx(app, client) -> WeChatSender:
    return WeChatSender(client, app.config["WECHAT_TOKEN"], app.config["WECHAT_APPID"])


def _count(prefix: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedup_key.like(f"{prefix}%"))
    )


def _announce(station, deputies, day, kind="topic"):
    reception = create_reception(
        station,
        {"kind": kind, "date": day.isoformat(), "start": "09:00", "end": "11:00", "topic": "接待"},
        deputy_ids=[d.id for d in deputies],
        announce=True,
    )
    db.session.commit()
    return reception


@pytest.fixture
def world(region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"])
    on_duty = make_deputy(tree["village_a"], name="周代表", station=station)
    placed = make_deputy(tree["village_a"], name="吴代表", station=station)
    unbound = make_deputy(tree["village_a"], name="郑代表", station=station)
    on_duty.openid = "oDuty" + uuid.uuid4().hex[:20]
    placed.openid = "oPlaced" + uuid.uuid4().hex[:20]
    db.session.commit()
    return {"tree": tree, "station": station, "on_duty": on_duty, "placed": placed, "unbound": unbound}


def _follower(wx, station) -> str:
    openid = "o" + uuid.uuid4().hex[:27]
    wx.subscribe(openid, station.code)
    return openid


def test_reply_unsubscribe_stops_announcements_and_subscribe_brings_them_back(world, wx):
    station = world["station"]
    stays, leaves = _follower(wx, station), _follower(wx, station)
    answer = wx.text(leaves, "退订")
    assert "已退订" in answer.content and "/me/subscriptions" in answer.content
    day = local_now().date() + timedelta(days=10)
    first = _announce(station, [world["on_duty"]], day)
    keys = {
        k.split(":")[-1]
        for k in db.session.scalars(
            select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like(f"announce:{first.id}:%"))
        )
    }
    assert keys == {stays}
    assert "已订阅" in wx.text(leaves, "订阅").content
    second = _announce(station, [world["on_duty"]], day + timedelta(days=1))
    assert _count(f"announce:{second.id}:") == 2


def test_menu_key_shows_the_settings(world, wx):
    openid = _follower(wx, world["station"])
    answer = wx.click(openid, "MY_SUBSCRIPTION")
    assert "接待公告：开启" in answer.content and world["station"].name in answer.content


def test_h5_page_chooses_stations_and_digest(app, world, wx, client, monkeypatch, make_station):
    other = make_station(world["tree"]["village_a"])
    openid = _follower(wx, world["station"])
    wx.scan(openid, other.code)
    from app.wechat import oauth

    monkeypatch.setattr(oauth, "identify", lambda: (oauth.Resident(openid, "wechat"), None, False))
    page = client.get("/me/subscriptions").get_data(as_text=True)
    assert world["station"].name in page and other.name in page
    client.post("/me/subscriptions", data={"action": "unfollow", "station_id": str(other.id)})
    client.post("/me/subscriptions", data={"action": "save", "announcements": "1", "weekly_digest": "1"})
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
    db.session.refresh(subscriber)
    assert subscriber.wants_weekly_digest and subscriber.wants_announcements
    follows = db.session.scalars(
        select(StationFollow.station_id).where(StationFollow.subscriber_id == subscriber.id)
    )
    assert list(follows) == [world["station"].id]
    # Unfollowed: an announcement there no longer reaches them.
    deputy = world["on_duty"]
    from app.stations.service import place_deputy

    place_deputy(other, deputy)
    reception = _announce(other, [deputy], local_now().date() + timedelta(days=9))
    assert _count(f"announce:{reception.id}:{openid}") == 0


def test_weekly_digest_goes_to_opted_in_followers_once(app, world, wx):
    station = world["station"]
    wants, not_wants = _follower(wx, station), _follower(wx, station)
    wx.text(wants, "订阅周报")
    monday = local_now().date() + timedelta(days=7 - local_now().weekday())
    _announce(station, [world["on_duty"]], monday + timedelta(days=1))
    at = datetime.combine(monday, time(8, 5))
    assert queue_weekly_digests(at) == (1, 1)
    assert queue_weekly_digests(at + timedelta(hours=2)) == (0, 1)  # a second run adds nothing
    assert _count(f"weekly:{monday}:{wants}") == 1 and _count(f"weekly:{monday}:{not_wants}") == 0
    # Before its moment, or more than a day late, nothing is sent.
    assert queue_weekly_digests(datetime.combine(monday, time(7))) == (0, 0)
    assert queue_weekly_digests(datetime.combine(monday + timedelta(days=2), time(9))) == (0, 0)


def test_every_placed_deputy_is_reminded_of_a_service_day_once_per_lead(app, world, mock_api):
    day = local_now().date() + timedelta(days=2)
    reception = _announce(world["station"], [world["on_duty"]], day, kind="service_day")
    now = datetime.combine(day - timedelta(days=1), time(19, 30))  # the evening before
    run_sweep("deputy_reminders", now)
    run_sweep("deputy_reminders", now)
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"reminder:{reception.id}:%"))
    ).all()
    assert sorted(r.openid for r in rows) == sorted([world["on_duty"].openid, world["placed"].openid])
    assert all(r.dedup_key.endswith(":eve") for r in rows)
    texts = {r.openid: r.data["fields"]["thing2"] for r in rows}
    assert "值班" in texts[world["on_duty"].openid] and "编入" in texts[world["placed"].openid]
    plan = planned_reminders(now, [reception])
    states = {(p.deputy.name, p.lead): p.state for p in plan}
    assert states[("周代表", "eve")] == "queued" and states[("周代表", "morning")] == "planned"
    assert states[("郑代表", "eve")] == "unbound" and states[("吴代表", "3d")] == "missed"


def test_the_reminders_page_says_when_in_words(app, world, make_user, login, client, monkeypatch):
    """The leads as staff read them (提前 3 天, 前一天 19:00, 当天 07:30), never as config codes."""
    _announce(world["station"], [world["on_duty"]], local_now().date() + timedelta(days=5))
    login(make_user(Role.STATION_STAFF, world["station"]))
    page = client.get("/console/notify/reminders").get_data(as_text=True)
    assert "（提前 3 天、前一天 19:00、当天 07:30）" in page and "3d" not in page and "morning" not in page
    assert "周代表" in page
    monkeypatch.setitem(app.config, "REMINDER_LEADS", "2d, 6h")
    page = client.get("/console/notify/reminders").get_data(as_text=True)
    assert "（提前 2 天、提前 6 小时）" in page


def test_staff_digest_reaches_bound_station_staff_with_work_and_lists_the_unbound(app, world, make_user):
    from app.opinions.service import submit_opinion

    bound = make_user(Role.STATION_STAFF, world["station"])
    bound.openid = "oStaff" + uuid.uuid4().hex[:20]
    unbound = make_user(Role.STATION_STAFF, world["station"])
    db.session.commit()
    now = datetime.combine(local_now().date(), time(9))
    assert queue_staff_digests(now) == (0, [])  # nothing waiting: nothing sent
    submit_opinion(station=world["station"], content="小区路灯坏了很久，希望尽快修好。", channel="h5")
    db.session.commit()
    assert queue_staff_digests(now - timedelta(hours=1)) == (0, [])  # before DIGEST_DAILY_TIME
    queued, unreachable = queue_staff_digests(now)
    assert queued == 1 and unreachable == [unbound.display_name]
    assert queue_staff_digests(now + timedelta(hours=3)) == (0, [unbound.display_name])  # once a day
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key == f"digest:{now.date()}:{bound.id}")
    )
    assert row.openid == bound.openid and "新留言待受理1条" in row.data["fields"]["thing3"]


def test_admins_get_a_digest_of_what_to_supervise_in_their_region(app, world, make_user):
    """Town and district admins: opinions late to be accepted, past their reply deadline, or
    reported up (上报) to them; an admin of another branch hears nothing of it."""
    from app.opinions.models import Opinion, OpinionStatus
    from app.opinions.service import submit_opinion

    tree = world["tree"]
    town, district = (
        make_user(Role.TOWN_ADMIN, tree["town_a"]),
        make_user(Role.DISTRICT_ADMIN, tree["district_a"]),
    )
    foreign = make_user(Role.DISTRICT_ADMIN, tree["district_b"])
    for user in (town, district, foreign):
        user.openid = "oAdmin" + uuid.uuid4().hex[:20]
    today = local_now().date()
    late = submit_opinion(station=world["station"], content="路口红绿灯坏了三天了，请尽快修。", channel="h5")
    late.accept_due = today - timedelta(days=1)
    overdue = submit_opinion(station=world["station"], content="河道漂浮垃圾很多，请派人清理。", channel="h5")
    overdue.status, overdue.deadline = OpinionStatus.ASSIGNED, today - timedelta(days=2)
    reported = submit_opinion(
        station=world["station"], content="学校门口停车混乱，存在安全隐患。", channel="h5"
    )
    reported.status, reported.owner_region_id = OpinionStatus.ESCALATED, tree["district_a"].id
    db.session.commit()

    now = datetime.combine(today, time(9))
    queue_staff_digests(now)
    texts = {
        row.openid: row.data["fields"]["thing3"]
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("digest:%")))
    }
    assert texts[town.openid] == "受理逾期1条，承办逾期1条"
    assert texts[district.openid] == "上报待办1条，受理逾期1条，承办逾期1条"
    assert foreign.openid not in texts
    assert db.session.get(Opinion, late.id).status == OpinionStatus.PENDING  # nothing changed


def test_station_unit_and_admin_digests_count_overdue_as_the_inbox_does(app, world, make_user, make_unit):
    """承办逾期 is one definition everywhere: past the reply deadline while still with the unit,
    assigned or guided (引导) alike — what the inbox's 逾期 filter shows."""
    from app.opinions.inbox import overdue_condition
    from app.opinions.models import Opinion, OpinionStatus
    from app.opinions.service import submit_opinion

    today = local_now().date()
    unit = make_unit(world["tree"]["district_a"])
    station_staff = make_user(Role.STATION_STAFF, world["station"])
    unit_staff = make_user(Role.UNIT_STAFF, unit)
    town = make_user(Role.TOWN_ADMIN, world["tree"]["town_a"])
    for user in (station_staff, unit_staff, town):
        user.openid = "oDigest" + uuid.uuid4().hex[:20]
    statuses = [OpinionStatus.ASSIGNED, OpinionStatus.GUIDED, OpinionStatus.ASSIGNED]
    deadlines = [today - timedelta(days=1), today - timedelta(days=3), today + timedelta(days=2)]
    for status, deadline in zip(statuses, deadlines, strict=True):
        opinion = submit_opinion(
            station=world["station"], content="楼道灯坏了很久，请尽快维修。", channel="h5"
        )
        opinion.status, opinion.deadline, opinion.unit_id = status, deadline, unit.id
        opinion.accept_due = today + timedelta(days=1)
    db.session.commit()
    in_inbox = db.session.scalar(select(func.count()).select_from(Opinion).where(overdue_condition(today)))
    assert in_inbox == 2

    queue_staff_digests(datetime.combine(today, time(9)))
    texts = {
        row.openid: row.data["fields"]["thing3"]
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("digest:%")))
    }
    assert texts[station_staff.openid] == "承办逾期2条"
    assert texts[unit_staff.openid] == "待办理3条，已逾期2条"  # the unit's inbox: assigned and guided
    assert texts[town.openid] == "承办逾期2条"


def test_late_announcements_are_made_but_warned_about(app, world):
    soon = _announce(world["station"], [world["on_duty"]], local_now().date() + timedelta(days=1))
    assert "少于规定的提前 3 天" in late_announcement_warning(soon)
    later = _announce(world["station"], [world["on_duty"]], local_now().date() + timedelta(days=5))
    assert late_announcement_warning(later) is None

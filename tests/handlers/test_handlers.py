"""Each handler, driven through ``/wechat`` with WeChat's documented XML."""

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.opinions.models import Opinion
from app.receptions.models import Reception, ReceptionDuty
from app.timeutil import local_now
from app.wechat.models import InboundMessage, StationFollow, Subscriber, TemplateDelivery
from handlers import registered
from tests.wechat.sender import documented


@pytest.fixture
def places(region_tree, make_station, make_deputy):
    """Three stations around Wuxi's centre, one far away, one suspended; deputies at the first."""
    tree = region_tree()
    village, town = tree["village_a"], tree["town_a"]
    near = make_station(village, name="清扬社区人大代表联络站", lat="31.5700", lng="120.3000")
    mid = make_station(village, name="广益社区人大代表联络站", lat="31.5800", lng="120.3100")
    far = make_station(town, name="某镇人大代表之家", lat="31.7000", lng="120.5000")
    very_far = make_station(town, name="远处人大代表之家", lat="32.5000", lng="121.5000")
    closed = make_station(village, name="停用联络站", lat="31.5701", lng="120.3001", status="suspended")
    deputies = [make_deputy(village, name=n, station=near) for n in ("王建国", "李秀英")]
    return {
        "near": near,
        "mid": mid,
        "far": far,
        "very_far": very_far,
        "closed": closed,
        "deputies": deputies,
    }


def _reception(station, deputies, *, days=0, start=time(9), end=time(11, 30), status="announced"):
    reception = Reception(
        station=station,
        date=local_now().date() + timedelta(days=days),
        start=start,
        end=end,
        kind="service_day",
        status=status,
    )
    reception.duties = [ReceptionDuty(deputy=d) for d in deputies]
    db.session.add(reception)
    db.session.flush()
    return reception


def test_every_documented_type_has_a_handler():
    assert {
        "text",
        "location",
        "image",
        "voice",
        "event:subscribe",
        "event:subscribe_scan",
        "event:scan",
        "event:unsubscribe",
        "event:location",
        "event:click",
        "event:view",
        "event:templatesendjobfinish",
    } <= set(registered())


# -- subscribe / SCAN ----------------------------------------------------------------------


def test_plain_subscribe_welcomes_with_how_to(wx, openid):
    answer = wx.subscribe(openid)
    assert "感谢关注" in answer.content and "留言" in answer.content and "进度" in answer.content
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
    assert subscriber.subscribed and subscriber.follows == []


def test_subscribe_by_plaque_follows_and_replies_with_the_station_card(wx, openid, places):
    station = places["near"]
    _reception(station, places["deputies"], days=7)
    answer = wx.subscribe(openid, station.code)
    assert station.name in answer.content
    assert station.address in answer.content
    assert "下次接待" in answer.content and "王建国" in answer.content and "李秀英" in answer.content
    assert f"http://jzd.test/s/{station.code}" in answer.content
    follow = db.session.scalar(select(StationFollow).join(Subscriber).where(Subscriber.openid == openid))
    assert follow.station_id == station.id and follow.via == "qrscene"


def test_station_card_says_plainly_when_nothing_is_scheduled(wx, openid, places):
    answer = wx.subscribe(openid, places["mid"].code)
    assert "暂无接待安排" in answer.content


def test_station_card_shows_who_is_on_duty_now(wx, openid, places):
    now = local_now()
    start = (now - timedelta(minutes=30)).time().replace(microsecond=0)
    end = (now + timedelta(minutes=30)).time().replace(microsecond=0)
    if start > end:  # around midnight: skip rather than build a reception across days
        pytest.skip("reception would cross midnight")
    _reception(places["near"], places["deputies"][:1], start=start, end=end)
    answer = wx.scan(openid, places["near"].code)
    assert "正在接待" in answer.content and "王建国" in answer.content


def test_draft_receptions_are_not_announced(wx, openid, places):
    _reception(places["near"], places["deputies"], days=3, status="draft")
    assert "暂无接待安排" in wx.scan(openid, places["near"].code).content


def test_scan_follows_several_stations(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    answer = wx.scan(openid, places["mid"].code)
    assert places["mid"].name in answer.content
    wx.scan(openid, places["mid"].code)  # again: still one follow
    follows = db.session.scalars(
        select(StationFollow).join(Subscriber).where(Subscriber.openid == openid)
    ).all()
    assert sorted(f.station_id for f in follows) == sorted([places["near"].id, places["mid"].id])


def test_scan_of_unknown_or_suspended_station_says_so(wx, openid, places):
    assert "未找到该家站点" in wx.scan(openid, "zzzzzz").content
    assert "未找到该家站点" in wx.scan(openid, places["closed"].code).content


def test_unsubscribe_marks_and_keeps_history(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    assert wx.post(documented("event_unsubscribe", FromUserName=openid)).is_success
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
    assert not subscriber.subscribed and subscriber.unsubscribed_at is not None
    assert len(subscriber.follows) == 1
    wx.subscribe(openid)
    db.session.refresh(subscriber)
    assert subscriber.subscribed and subscriber.unsubscribed_at is None


# -- location ------------------------------------------------------------------------------


def test_location_message_lists_three_nearest_active_stations_nearest_first(wx, openid, places):
    answer = wx.location(openid, 31.5690, 120.2990)
    text = answer.content
    assert "停用联络站" not in text and places["very_far"].name not in text
    positions = [text.index(places[k].name) for k in ("near", "mid", "far")]
    assert positions == sorted(positions)
    assert "米" in text and "公里" in text
    assert f"/s/{places['near'].code}" in text


def test_location_event_answers_the_same(wx, openid, places):
    xml = documented("event_location", FromUserName=openid, Latitude="31.5690", Longitude="120.2990")
    assert places["near"].name in wx.post(xml).content


def test_nonsense_location_is_answered_kindly(wx, openid):
    xml = documented("location", FromUserName=openid, Location_X="abc", Location_Y="999")
    assert "没能识别" in wx.post(xml).content


# -- text: 留言 ------------------------------------------------------------------------------


def test_opinion_at_the_followed_station(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    answer = wx.text(openid, "留言 小区门口的路灯坏了两周，晚上出行不便")
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert opinion.station_id == places["near"].id
    assert opinion.channel == "wechat" and opinion.content == "小区门口的路灯坏了两周，晚上出行不便"
    assert opinion.tracking_no in answer.content
    assert f"http://jzd.test/t/{opinion.tracking_no}" in answer.content
    assert "待受理" in answer.content


@pytest.mark.parametrize(
    "text", ["留言：楼道堆物很多存在隐患", "留言，楼道堆物很多存在隐患", "留言楼道堆物很多存在隐患"]
)
def test_opinion_keyword_separators(wx, openid, places, text):
    wx.subscribe(openid, places["near"].code)
    wx.text(openid, text)
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert opinion.content == "楼道堆物很多存在隐患"


def test_opinion_with_several_followed_stations_asks_which_with_links(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    wx.scan(openid, places["mid"].code)
    answer = wx.text(openid, "留言 小区门口的路灯坏了两周")
    assert "多个家站点" in answer.content
    assert f"/s/{places['near'].code}" in answer.content and f"/s/{places['mid'].code}" in answer.content
    assert db.session.scalar(select(Opinion).where(Opinion.resident_id == openid)) is None
    # Naming the station by its code settles it.
    answer = wx.text(openid, f"留言 {places['mid'].code.upper()} 小区门口的路灯坏了两周")
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert opinion.station_id == places["mid"].id and opinion.tracking_no in answer.content


def test_opinion_without_a_followed_station_asks_to_find_one(wx, openid, places):
    answer = wx.text(openid, "留言 小区门口的路灯坏了两周")
    assert "还没有关注" in answer.content
    assert db.session.scalar(select(Opinion).where(Opinion.resident_id == openid)) is None


def test_too_short_opinion_is_refused_with_the_rule(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    assert "至少 5 个字" in wx.text(openid, "留言 路灯坏").content
    assert "请在“留言”后写上" in wx.text(openid, "留言").content
    assert db.session.scalar(select(Opinion).where(Opinion.resident_id == openid)) is None


# -- text: 进度, 值班, help -------------------------------------------------------------------


def test_progress_lists_only_the_senders_opinions(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    assert "还没有留言" in wx.text(openid, "进度").content
    wx.text(openid, "留言 小区门口的路灯坏了两周")
    wx.text("oSomeoneElse000000000000000", "留言 别人的留言内容在这里")
    answer = wx.text(openid, "进度")
    mine = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert mine.tracking_no in answer.content and "待受理" in answer.content
    assert "别人的留言" not in answer.content


def test_progress_by_tracking_number(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    wx.text(openid, "留言 小区门口的路灯坏了两周")
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    spaced = " ".join([opinion.tracking_no[:4], opinion.tracking_no[4:8].lower(), opinion.tracking_no[8:]])
    answer = wx.text(openid, f"进度 {spaced}")
    assert opinion.tracking_no in answer.content and places["near"].name in answer.content
    assert "未找到该留言" in wx.text(openid, "进度 AAAAAAAAAAAA").content


def test_duty_at_followed_stations(wx, openid, places):
    assert "还没有关注" in wx.text(openid, "值班").content
    wx.subscribe(openid, places["near"].code)
    _reception(places["near"], places["deputies"], days=2)
    answer = wx.text(openid, "接待")
    assert places["near"].name in answer.content and "王建国" in answer.content
    assert places["mid"].name in wx.text(openid, f"值班 {places['mid'].code}").content


def test_a_reception_line_names_its_topic_once():
    from datetime import date

    from app.receptions.service import ReceptionBrief
    from handlers.answers import reception_line

    day = ReceptionBrief(1, date(2026, 12, 15), time(9), time(11, 30), "service_day", "", ("李霞", "顾静"))
    assert reception_line(day) == "12月15日（周二）09:00-11:30 代表联系服务群众日，代表：李霞、顾静"
    same = ReceptionBrief(
        1, date(2026, 12, 15), time(9), time(11, 30), "service_day", "代表联系服务群众日", ()
    )
    assert reception_line(same) == "12月15日（周二）09:00-11:30 代表联系服务群众日"
    topic = ReceptionBrief(1, date(2026, 12, 15), time(9), time(11, 30), "service_day", "老旧小区改造", ())
    assert reception_line(topic).endswith("代表联系服务群众日（老旧小区改造）")


def test_anything_else_gets_the_short_help(wx, openid):
    answer = wx.text(openid, "你好")
    for keyword in ("留言", "进度", "值班", "位置", "菜单"):
        assert keyword in answer.content
    assert len(answer.content.encode()) < 600


# -- menu, template reports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("LEAVE_OPINION", "留言+内容"),
        ("MY_PROGRESS", "还没有留言"),
        ("DUTY", "还没有关注"),
        ("MY_STATIONS", "还没有关注"),
        ("FIND_STATION", "位置"),
        ("SOMETHING_ELSE", "菜单"),
    ],
)
def test_menu_clicks(wx, openid, key, expected):
    assert expected in wx.click(openid, key).content


def test_menu_clicks_with_a_followed_station(wx, openid, places):
    wx.subscribe(openid, places["near"].code)
    assert places["near"].name in wx.click(openid, "MY_STATIONS").content
    assert places["near"].name in wx.click(openid, "LEAVE_OPINION").content
    assert "暂无接待安排" in wx.click(openid, "DUTY").content


def test_two_buttons_tapped_in_one_second_get_their_own_answers(wx, openid):
    """Events have no MsgId: the dedup key tells them apart by EventKey, not only by the second."""
    at = 1_800_000_000
    progress = wx.post(documented("event_click", FromUserName=openid, CreateTime=at, EventKey="MY_PROGRESS"))
    find = wx.post(documented("event_click", FromUserName=openid, CreateTime=at, EventKey="FIND_STATION"))
    assert "还没有留言" in progress.content and "位置" in find.content
    again = wx.post(documented("event_click", FromUserName=openid, CreateTime=at, EventKey="FIND_STATION"))
    assert again.content == find.content  # WeChat's retry of the second tap: answered as it was
    rows = db.session.scalars(select(InboundMessage).where(InboundMessage.openid == openid)).all()
    assert sorted((row.action, row.deliveries) for row in rows) == [("find_howto", 2), ("progress_none", 1)]


def test_view_is_logged_only(wx, openid):
    xml = documented("event_view", FromUserName=openid, EventKey="http://jzd.test/s/abcdef")
    assert wx.post(xml).is_success
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.action == "menu_view" and row.ref == "http://jzd.test/s/abcdef"


def test_template_send_job_finish_records_delivery_status(wx, openid):
    xml = documented("event_templatesendjobfinish", FromUserName=openid, MsgID=987654321)
    assert wx.post(xml).is_success
    delivery = db.session.scalar(select(TemplateDelivery).where(TemplateDelivery.msgid == 987654321))
    assert delivery.status == "success" and delivery.delivered and delivery.openid == openid
    failed = documented(
        "event_templatesendjobfinish", FromUserName=openid, MsgID=987654321, Status="failed:user block"
    )
    wx.post(failed)
    db.session.refresh(delivery)
    assert delivery.status == "failed:user block" and not delivery.delivered


def test_aes_mode_journey(wx_aes, openid, places):
    """Scan, leave an opinion, ask progress: the same in 安全模式."""
    assert places["near"].name in wx_aes.subscribe(openid, places["near"].code, aes=True).content
    answer = wx_aes.text(openid, "留言 安全模式下提交的留言内容", aes=True)
    opinion = db.session.scalar(select(Opinion).where(Opinion.resident_id == openid))
    assert opinion.tracking_no in answer.content
    assert opinion.tracking_no in wx_aes.text(openid, "进度", aes=True).content


def test_risky_opinion_is_refused_with_the_reason_and_not_stored(wx, openid, places, mock_api):
    """The intake screens WeChat text with msg_sec_check v2 (the mock calls 赌博 risky)."""
    wx.subscribe(openid, places["near"].code)
    answer = wx.text(openid, "留言 小区里有人聚众赌博，请管一管")
    assert "未通过" in answer.content
    assert db.session.scalar(select(Opinion).where(Opinion.resident_id == openid)) is None
    checked = mock_api.requests("/wxa/msg_sec_check")
    assert checked and checked[-1]["json"]["version"] == 2 and checked[-1]["json"]["openid"] == openid

import io
from pathlib import Path

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.opinions.models import OpinionStatus
from app.opinions.service import get_by_tracking_no, opinions_of, submit_opinion
from app.wechat.mock import Fault, mock_state


@pytest.fixture
def station(region_tree, make_station):
    return make_station(region_tree()["village_a"])


def test_submit_stores_pending_opinion_with_event(station):
    opinion = submit_opinion(
        station=station, content="小区门口路灯坏了两周", channel="h5", resident_id="anon-1"
    )
    assert opinion.status == OpinionStatus.PENDING
    assert len(opinion.tracking_no) == 12
    assert [e.action for e in opinion.events] == ["submit"]
    assert get_by_tracking_no(opinion.tracking_no.lower()) is opinion
    assert opinions_of("anon-1") == [opinion]
    assert opinions_of("anon-2") == []


def test_tracking_numbers_differ(station):
    numbers = {
        submit_opinion(station=station, content=f"第{i}条意见内容", channel="h5").tracking_no
        for i in range(20)
    }
    assert len(numbers) == 20


@pytest.mark.parametrize(
    ("content", "mobile", "message"),
    [("太短", "", "至少 5 个字"), ("x" * 2001, "", "不能超过 2000"), ("路灯坏了很久了", "12345", "手机号")],
)
def test_bad_input_is_refused(station, content, mobile, message):
    with pytest.raises(ValidationFailed, match=message):
        submit_opinion(station=station, content=content, channel="h5", contact_mobile=mobile)


def test_same_dedup_key_gives_same_opinion(station):
    first = submit_opinion(station=station, content="同一条留言的内容", channel="wechat", dedup_key="wx:1")
    again = submit_opinion(station=station, content="同一条留言的内容", channel="wechat", dedup_key="wx:1")
    assert again.id == first.id


def test_suspended_station_takes_no_opinions(station):
    station.status = "suspended"
    with pytest.raises(ValidationFailed, match="暂停服务"):
        submit_opinion(station=station, content="路灯坏了很久了", channel="h5")


def _png(color="red") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_photos_are_reencoded_and_attached(app, station):
    opinion = submit_opinion(
        station=station, content="楼道堆物有火灾隐患", channel="h5", photos=[_png(), _png("blue")]
    )
    assert [p.position for p in opinion.photos] == [0, 1]
    for photo in opinion.photos:
        stored = Path(app.config["UPLOAD_FOLDER"]) / photo.path
        assert stored.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG, whatever was uploaded


def test_bad_or_too_many_photos_store_nothing(app, station):
    before = set(Path(app.config["UPLOAD_FOLDER"]).rglob("*.jpg"))
    with pytest.raises(ValidationFailed, match="最多上传 3 张"):
        submit_opinion(station=station, content="楼道堆物有火灾隐患", channel="h5", photos=[_png()] * 4)
    with pytest.raises(ValidationFailed, match="无法识别"):
        submit_opinion(
            station=station,
            content="楼道堆物有火灾隐患",
            channel="h5",
            photos=[_png(), io.BytesIO(b"not an image")],
        )
    assert set(Path(app.config["UPLOAD_FOLDER"]).rglob("*.jpg")) == before
    assert opinions_of_station(station) == []


def opinions_of_station(station):
    from sqlalchemy import select

    from app.extensions import db
    from app.opinions.models import Opinion

    return list(db.session.scalars(select(Opinion).where(Opinion.station_id == station.id)))


def test_risky_text_is_refused_and_not_stored(station):
    with pytest.raises(ValidationFailed, match="内容安全检测") as refused:
        submit_opinion(station=station, content="有人在小区里聚众赌博", channel="wechat", resident_id="oWx1")
    assert refused.value.code == "content_rejected"
    assert opinions_of_station(station) == []


def test_content_check_verdicts(station):
    checked = submit_opinion(
        station=station, content="门口路灯不亮了", channel="miniapp", resident_id="oMini1"
    )
    assert checked.content_check == "pass"
    anonymous = submit_opinion(station=station, content="门口路灯不亮了", channel="h5", resident_id="anon-x")
    assert anonymous.content_check == "unchecked"
    via_oauth = submit_opinion(
        station=station, content="门口路灯不亮了", channel="h5", resident_id="oWx2", wechat_openid="oWx2"
    )
    assert via_oauth.content_check == "pass"


def test_unreachable_check_never_loses_the_opinion(app, station):
    mock = mock_state(app.extensions["wechat_mock_app"])
    mock.add_fault(Fault(path="/wxa/msg_sec_check", times=5, errcode=-1))
    try:
        opinion = submit_opinion(
            station=station, content="门口路灯不亮了", channel="wechat", resident_id="oWx3"
        )
    finally:
        mock.clear_faults()
    assert opinion.content_check == "unchecked" and opinion.id
    assert mock.requests("/wxa/msg_sec_check")


def test_nul_characters_are_refused(station):
    with pytest.raises(ValidationFailed, match="无效字符"):
        submit_opinion(station=station, content="路灯坏了\x00很久", channel="h5")


def test_category_by_code_or_name(station):
    by_name = submit_opinion(station=station, content="路口红绿灯时间太短", channel="h5", category="交通出行")
    by_code = submit_opinion(station=station, content="路口红绿灯时间太短", channel="h5", category="traffic")
    assert by_name.category == by_code.category == "traffic"
    with pytest.raises(ValidationFailed, match="类别"):
        submit_opinion(station=station, content="路口红绿灯时间太短", channel="h5", category="外星人")


def test_several_deputies_and_each_sees_it(region_tree, make_station, make_deputy, make_user):
    from app.auth.scope import is_visible

    tree = region_tree()
    station = make_station(tree["village_a"])
    first, second, absent = (make_deputy(tree["town_a"], station=station) for _ in range(3))
    opinion = submit_opinion(
        station=station,
        content="走访时群众反映的停车难问题",
        channel="staff",
        deputies=[first, second, first],
    )
    assert opinion.deputy is first
    assert [link.deputy for link in opinion.via_deputies] == [first, second]
    assert is_visible(opinion, make_user("deputy", second))
    assert not is_visible(opinion, make_user("deputy", absent))


def test_a_slow_check_keeps_the_opinion_unchecked_within_the_budget(app, station):
    # WeChat waits 5 s for the answer to a 留言: the check may take at most its budget.
    import time

    from app.opinions.service import CONTENT_CHECK_TIMEOUT

    mock = mock_state(app.extensions["wechat_mock_app"])
    mock.add_fault(Fault(path="/wxa/msg_sec_check", times=1, delay_s=4))
    started = time.monotonic()
    try:
        opinion = submit_opinion(
            station=station, content="门口路灯不亮了", channel="wechat", resident_id="oWx4"
        )
    finally:
        mock.clear_faults()
    assert opinion.content_check == "unchecked" and opinion.id
    # The client's default read timeout (2.5 s) would be over the budget's 1.5 s.
    assert CONTENT_CHECK_TIMEOUT[1] <= time.monotonic() - started < CONTENT_CHECK_TIMEOUT[1] + 0.7

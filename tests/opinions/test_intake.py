import pytest

from app.errors import ValidationFailed
from app.opinions.models import OpinionStatus
from app.opinions.service import get_by_tracking_no, opinions_of, submit_opinion


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

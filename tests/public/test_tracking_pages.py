"""``/t/<no>`` and 我的: plain-Chinese progress, escaped content, no name or phone, own records only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from types import SimpleNamespace

import pytest

from app.extensions import db
from app.opinions.models import OpinionStatus
from app.opinions.service import record_event, submit_opinion
from app.public.progress import Answer, public_answer
from app.receptions.bookings import book_slot
from tests.public.conftest import resident_id


def _opinion(station, resident="anon-someone", **fields):
    data = {
        "content": "小区门口的路灯坏了两周，晚上出行不便。",
        "channel": "h5",
        "resident_id": resident,
        "contact_name": "王秀英",
        "contact_mobile": "13912345678",
        "category": "城乡建设",
    }
    data.update(fields)
    opinion = submit_opinion(station=station, **data)
    db.session.commit()
    return opinion


def _move(opinion, to_status, note="", action="change"):
    record_event(
        opinion, action, actor="staff:wangfang", from_status=opinion.status, to_status=to_status, note=note
    )
    opinion.status = to_status
    db.session.commit()


def test_tracking_page_shows_status_content_and_station(client, journey):
    opinion = _opinion(journey["station"])
    response = client.get(f"/t/{opinion.tracking_no}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "当前状态：<strong>待受理</strong>" in html
    assert '<li class="step is-current" aria-current="step">' in html
    assert html.count('class="step is-todo"') == 5
    assert "提交留言" in html and "通过扫码留言提交" in html
    assert "清扬社区人大代表联络站" in html and "城乡建设" in html
    assert "小区门口的路灯坏了两周" in html
    assert "留言已提交" not in html  # that banner is for the owner just after sending
    assert 'name="robots" content="noindex"' in html


def test_never_the_residents_name_or_phone(client, journey):
    opinion = _opinion(journey["station"])
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert "王秀英" not in html
    assert "13912345678" not in html and "139****5678" not in html and "5678" not in html


def test_resident_content_is_escaped(client, resident, journey):
    opinion = _opinion(journey["station"], content="<script>alert('x')</script>路灯<b>坏了</b>")
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert "<script>alert" not in html and "<b>坏了</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;路灯&lt;b&gt;坏了&lt;/b&gt;" in html
    owner = resident()
    owner.get("/me")
    _opinion(journey["station"], resident=resident_id(owner), content="<img src=x onerror=alert(1)>积水")
    me = owner.get("/me").get_data(as_text=True)
    assert "<img src=x" not in me and "&lt;img src=x onerror=alert(1)&gt;积水" in me


@pytest.mark.parametrize("spelling", ["lower", "dashes", "spaces"])
def test_tracking_numbers_are_case_space_and_dash_tolerant(client, journey, spelling):
    opinion = _opinion(journey["station"])
    number = opinion.tracking_no
    typed = {
        "lower": number.lower(),
        "dashes": f"{number[:4]}-{number[4:8]}-{number[8:]}",
        "spaces": f"{number[:4]}%20{number[4:8]}%20{number[8:]}".lower(),
    }[spelling]
    response = client.get(f"/t/{typed}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/t/{number}"
    odd = client.get(f"/t/{number.lower()}?tracking_no=x&new=1")
    assert odd.status_code == 301 and odd.headers["Location"] == f"/t/{number}?new=1"
    lookup = client.get("/t", query_string={"no": f" {number[:6].lower()} {number[6:]} "})
    assert lookup.status_code == 302 and lookup.headers["Location"] == f"/t/{number}"


@pytest.mark.parametrize("number", ["AAAAAAAAAAAA", "nosuch", "x" * 200, "%00", "中文编号"])
def test_unknown_number_is_a_friendly_404(client, number):
    response = client.get(f"/t/{number}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "未找到该留言" in html and "按查询编号查看进度" in html


def test_empty_lookup_goes_to_the_lookup_form(client):
    response = client.get("/t?no=")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me#lookup")


def test_timeline_shows_steps_in_plain_words_never_staff_or_notes(client, journey):
    opinion = _opinion(journey["station"])
    _move(opinion, OpinionStatus.ACCEPTED, note="内部：此人多次来访，注意方式")
    _move(opinion, OpinionStatus.ASSIGNED, note="交城管局，限10个工作日")
    record_event(opinion, "urge", actor="system", note="逾期自动督办")
    record_event(opinion, "note", actor="staff:wangfang", note="电话联系未接通")
    db.session.commit()
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert "当前状态：<strong>已交办</strong>" in html
    assert html.count('class="step is-done"') == 2
    current = re.search(r'<li class="step is-current" aria-current="step">.*?</li>', html).group(0)
    assert '<span class="step-label">已交办</span>' in current
    for shown in ("已受理", "已交办", "督办", "已督促承办单位加快办理"):
        assert shown in html
    for hidden in ("wangfang", "内部", "多次来访", "城管局", "逾期自动", "电话联系未接通"):
        assert hidden not in html


def test_steps_through_to_closed(client, journey):
    opinion = _opinion(journey["station"])
    for status in (OpinionStatus.ACCEPTED, OpinionStatus.ASSIGNED):
        _move(opinion, status)
    _move(opinion, OpinionStatus.REPLIED, note="城管局内部答复：已派单")
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert html.count('class="step is-done"') == 3 and "已派单" not in html
    assert "answer-h" not in html  # no answer written for the resident yet
    _move(opinion, OpinionStatus.FED_BACK, note="已电话告知")
    _move(opinion, OpinionStatus.CLOSED)
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert html.count('class="step is-done"') == 6 and "当前状态：<strong>已办结</strong>" in html
    assert "已电话告知" not in html


def test_the_answer_block_shows_the_residents_answer(client, journey, monkeypatch):
    opinion = _opinion(journey["station"])
    answer = Answer(
        heading="办理结果",
        text="路灯已于本周三修复，感谢您的反映。\n<b>如仍有问题</b>请再次留言。",
        at=datetime(2026, 12, 2, 15, 30),
    )
    monkeypatch.setattr("app.public.views.public_answer", lambda _opinion: answer)
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert '<h2 id="answer-h">办理结果</h2>' in html
    assert "路灯已于本周三修复，感谢您的反映。\n&lt;b&gt;如仍有问题&lt;/b&gt;请再次留言。" in html
    assert "2026年12月2日（周三）" in html


@pytest.mark.parametrize(
    ("status", "text", "heading"),
    [
        (OpinionStatus.FED_BACK, "路灯已修复。", "办理结果"),
        (OpinionStatus.CLOSED, "路灯已修复。", "办理结果"),
        (OpinionStatus.GUIDED, "请向区人民法院立案庭咨询。", "答复意见"),
        (OpinionStatus.REJECTED, "不属于本站受理范围。", "不予受理的理由"),
        (OpinionStatus.ASSIGNED, "", None),
    ],
)
def test_the_answer_comes_from_the_opinion_never_from_notes(status, text, heading):
    at = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    opinion = SimpleNamespace(status=status, answer_text=text, fed_back_at=at, updated_at=at, created_at=at)
    answer = public_answer(opinion)
    if heading is None:
        assert answer is None
    else:
        assert (answer.heading, answer.text, answer.at) == (heading, text, datetime(2026, 12, 2, 15, 30))
    # Before the closed loop stores answers, there is none (event notes are internal).
    assert public_answer(SimpleNamespace(status=status)) is None


def test_a_side_path_is_labelled(client, journey):
    opinion = _opinion(journey["station"])
    _move(opinion, OpinionStatus.ACCEPTED)
    _move(opinion, OpinionStatus.GUIDED, note="内部：涉诉，转法院")
    html = client.get(f"/t/{opinion.tracking_no}").get_data(as_text=True)
    assert '<p class="side-path">已引导依法反映</p>' in html
    assert "依法通过司法或信访渠道反映" in html
    assert "转法院" not in html
    assert html.count('class="step is-done"') == 2 and "is-current" not in html


def test_the_owner_sees_the_sent_banner_others_do_not(resident, journey):
    owner, other = resident(), resident()
    owner.get("/me")
    opinion = _opinion(journey["station"], resident=resident_id(owner))
    assert "留言已提交" in owner.get(f"/t/{opinion.tracking_no}?new=1").get_data(as_text=True)
    assert "留言已提交" not in other.get(f"/t/{opinion.tracking_no}?new=1").get_data(as_text=True)


def test_me_lists_only_the_residents_own_opinions_and_bookings(resident, journey):
    station, reception = journey["station"], journey["reception"]
    alice, bob = resident(), resident()
    alice.get("/me")
    bob.get("/me")
    mine = _opinion(station, resident=resident_id(alice), content="爱丽丝：楼道堆物有火灾隐患")
    theirs = _opinion(station, resident=resident_id(bob), content="鲍勃：公交站台缺少遮雨棚")
    booked = book_slot(
        reception=reception,
        slot_start=time(9),
        resident_id=resident_id(alice),
        name="爱丽丝",
        mobile="13800000001",
    )
    other = book_slot(
        reception=reception,
        slot_start=time(9),
        resident_id=resident_id(bob),
        name="鲍勃",
        mobile="13800000002",
    )
    db.session.commit()

    page = alice.get("/me").get_data(as_text=True)
    assert mine.tracking_no in page and "爱丽丝：楼道堆物" in page
    assert theirs.tracking_no not in page and "鲍勃" not in page
    assert booked.code in page and other.code not in page
    assert "待参加" in page
    assert '我的预约 <span class="count">1 个</span>' in page

    page = bob.get("/me").get_data(as_text=True)
    assert theirs.tracking_no in page and mine.tracking_no not in page and booked.code not in page


def test_me_for_a_newcomer_is_empty_and_explains(resident):
    page = resident().get("/me").get_data(as_text=True)
    assert "还没有预约" in page and "还没有留言" in page
    assert "换手机或清除浏览器数据后将看不到" in page


def test_me_in_wechat_includes_official_account_messages(resident, journey):
    openid = "oWxMe000000000000000000000001"
    _opinion(journey["station"], resident=openid, channel="wechat", content="公众号里发的留言内容")
    page = resident(wechat_openid=openid).get("/me").get_data(as_text=True)
    assert "公众号里发的留言内容" in page and "已通过微信识别您的身份" in page


def test_wechat_browser_without_cookie_goes_through_oauth(client, journey):
    agent = "Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 MicroMessenger/8.0.47.2560"
    for path in (f"/s/{journey['station'].code}", "/me", f"/s/{journey['station'].code}/opinion"):
        response = client.get(path, headers={"User-Agent": agent})
        assert response.status_code == 302
        assert "/connect/oauth2/authorize" in response.headers["Location"]

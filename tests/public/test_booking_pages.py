"""Booking through the H5 pages: pick a slot, confirm, cancel; full slots, one per resident, owners only."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from app.extensions import db
from app.receptions.bookings import book_slot, get_booking, slot_usage
from app.receptions.models import ReceptionStatus
from tests.public.conftest import add_reception, at, resident_id

GOOD = {"name": "张阿姨", "mobile": "13812345678", "topic": "小区加装电梯"}


def _slot(reception, clock="09:00") -> str:
    return f"{reception.id}@{clock}"


def _book(browser, journey, clock="09:00", **fields):
    data = {"slot": _slot(journey["reception"], clock), **GOOD, **fields}
    return browser.post(f"/s/{journey['station'].code}/book", data=data)


def _fill(reception, clock=time(9), count=None):
    """Other residents take every seat of a slot."""
    for n in range(count or reception.slot_capacity):
        book_slot(
            reception=reception, slot_start=clock, resident_id=f"other-{n}", name="李", mobile="13900000000"
        )
    db.session.commit()


def test_form_lists_open_slots_with_free_seats_and_full_ones(resident, journey):
    reception = journey["reception"]
    _fill(reception, time(9, 30))
    browser = resident()
    response = browser.get(f"/s/{journey['station'].code}/book")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "值班代表：陈立、周敏" in html
    assert f'value="{_slot(reception)}" required>' in html
    assert "余 2 位" in html
    full = re.search(
        rf'<input type="radio" name="slot" value="{_slot(reception, "09:30")}"[^>]*>', html
    ).group(0)
    assert "disabled" in full
    assert "已约满" in html
    assert 'name="csrf_token"' in html


def test_draft_cancelled_and_past_receptions_are_not_offered(resident, journey):
    station, deputies = journey["station"], journey["deputies"]
    draft = add_reception(station, deputies, status=ReceptionStatus.DRAFT, topic="草稿专场", kind="topic")
    past = add_reception(
        station, deputies, day=journey["reception"].date - timedelta(days=30), topic="上月专场", kind="topic"
    )
    no_booking = add_reception(station, deputies, capacity=0, topic="无需预约专场", kind="topic")
    html = resident().get(f"/s/{station.code}/book").get_data(as_text=True)
    for hidden in (draft, past, no_booking):
        assert f'value="{hidden.id}@' not in html
    assert "草稿专场" not in html and "上月专场" not in html


def test_booking_gives_a_confirmation_with_code_time_and_place(resident, journey):
    browser = resident()
    response = _book(browser, journey, "09:30")
    assert response.status_code == 303
    location = response.headers["Location"]
    code = re.match(r"^/b/([A-Z0-9]+)\?new=1$", location).group(1)
    booking = get_booking(code)
    assert booking.resident_id == resident_id(browser)
    assert booking.channel == "h5" and booking.slot_start == time(9, 30)

    page = browser.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "预约成功" in html and code in html
    assert "09:30–10:00" in html
    assert "清扬社区人大代表联络站" in html and "清扬路 100 号" in html
    assert "陈立、周敏" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "取消预约" in html


@pytest.mark.parametrize(
    ("fields", "message", "status"),
    [
        ({"mobile": "12345"}, "11 位手机号", 422),
        ({"mobile": "2381234567"}, "11 位手机号", 422),
        ({"name": "  "}, "请填写姓名", 422),
        ({"slot": ""}, "请选择一个预约时段", 422),
        ({"slot": "abc"}, "请选择一个预约时段", 422),
        ({"slot": "1@25:99"}, "请选择一个预约时段", 422),
        ({"slot": "999999@09:00"}, "不存在或已取消", 404),
        ({"topic": "事" * 201}, "不能超过 200", 422),
    ],
)
def test_bad_input_keeps_the_form_with_a_message(resident, journey, fields, message, status):
    response = _book(resident(), journey, **fields)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="13812345678"' in html or "mobile" in fields  # what the resident typed is still there


def test_a_slot_between_slots_is_refused(resident, journey):
    response = _book(resident(), journey, "09:10")
    assert response.status_code == 422
    assert "请选择本场接待的一个预约时段" in response.get_data(as_text=True)


def test_another_stations_reception_cannot_be_booked_here(resident, journey, make_station):
    other = make_station(journey["tree"]["village_b"], "station")
    foreign = add_reception(other, [])
    response = resident().post(
        f"/s/{journey['station'].code}/book", data={"slot": f"{foreign.id}@09:00", **GOOD}
    )
    assert response.status_code == 404
    assert slot_usage(foreign)[time(9)] == 0


def test_full_slot_says_yue_man_and_keeps_the_form(resident, journey):
    reception = journey["reception"]
    first, second, third = resident(), resident(), resident()
    assert _book(first, journey).status_code == 303
    assert _book(second, journey, name="王伯伯").status_code == 303
    late = _book(third, journey, name="赵老师")
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "09:00 这个时段刚刚约满了" in html and 'value="赵老师"' in html
    assert slot_usage(reception)[time(9)] == 2
    # The full slot is now shown as such, and another one still takes the third resident.
    assert _book(third, journey, "10:00", name="赵老师").status_code == 303


def test_one_active_booking_per_resident_per_reception(resident, journey):
    browser = resident()
    first = _book(browser, journey)
    code = first.headers["Location"].split("/")[2].split("?")[0]
    again = _book(browser, journey, "10:00")
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "您已预约本场接待" in html
    assert f'href="/b/{code}"' in html
    # Another reception of the same station is a separate booking.
    later = add_reception(
        journey["station"], journey["deputies"], day=journey["reception"].date + timedelta(1)
    )
    response = browser.post(f"/s/{journey['station'].code}/book", data={"slot": f"{later.id}@09:00", **GOOD})
    assert response.status_code == 303


def test_owner_cancels_and_the_seat_is_free_again(resident, journey):
    reception = journey["reception"]
    browser = resident()
    location = _book(browser, journey).headers["Location"]
    code = location.split("/")[2].split("?")[0]
    response = browser.post(f"/b/{code}/cancel")
    assert response.status_code == 303
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "预约已取消" in page and "取消预约</button>" not in page
    assert slot_usage(reception)[time(9)] == 0
    # Cancelled: the resident may book this reception again.
    assert _book(browser, journey, "10:00").status_code == 303
    again = browser.post(f"/b/{code}/cancel")
    assert again.status_code == 409 and "不能取消" in again.get_data(as_text=True)


def test_nobody_else_sees_or_cancels_a_booking(resident, journey):
    owner, stranger = resident(), resident()
    code = _book(owner, journey).headers["Location"].split("/")[2].split("?")[0]
    stranger.get(f"/s/{journey['station'].code}")  # has an identity of their own
    assert stranger.get(f"/b/{code}").status_code == 404
    response = stranger.post(f"/b/{code}/cancel")
    assert response.status_code == 404
    assert "张阿姨" not in response.get_data(as_text=True)
    assert get_booking(code).is_active
    assert stranger.get("/b/NOSUCH99").status_code == 404
    assert stranger.get("/b/" + "x" * 40).status_code == 404


def test_no_cancelling_once_the_slot_has_started(resident, journey):
    reception = journey["reception"]
    browser = resident()
    code = _book(browser, journey).headers["Location"].split("/")[2].split("?")[0]
    reception.date = reception.date - timedelta(days=8)  # the reception was yesterday after all
    db.session.commit()
    page = browser.get(f"/b/{code}").get_data(as_text=True)
    assert "取消预约</button>" not in page
    response = browser.post(f"/b/{code}/cancel")
    assert response.status_code == 409
    assert "预约时段已开始，不能取消" in response.get_data(as_text=True)
    assert get_booking(code).is_active


def test_no_booking_page_when_nothing_is_bookable(resident, journey):
    journey["reception"].status = ReceptionStatus.CANCELLED
    db.session.commit()
    html = resident().get(f"/s/{journey['station'].code}/book").get_data(as_text=True)
    assert "暂无可预约的接待" in html and "先在线留言" in html


def test_unknown_station_booking_is_a_friendly_404(resident):
    assert resident().get("/s/nosuch/book").status_code == 404
    assert resident().post("/s/nosuch/book", data=GOOD).status_code == 404


def test_started_slots_are_not_offered(resident, journey, monkeypatch):
    reception = journey["reception"]
    monkeypatch.setattr("app.public.views.local_now", lambda: at(reception, time(9, 40)))
    html = resident().get(f"/s/{journey['station'].code}/book").get_data(as_text=True)
    assert f'value="{_slot(reception, "09:00")}"' not in html
    assert f'value="{_slot(reception, "09:30")}"' not in html
    assert f'value="{_slot(reception, "10:00")}"' in html

"""Who is on duty on ``/s/<code>``: the reception under way with its deputies, the next ones with seats."""

from __future__ import annotations

import io
from datetime import time, timedelta

from PIL import Image

from app.deputies.service import set_photo
from app.extensions import db
from app.media.service import save_image
from app.receptions.bookings import book_slot
from app.receptions.models import ReceptionStatus
from tests.public.conftest import add_reception, at


def _html(client, station) -> str:
    response = client.get(f"/s/{station.code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_next_receptions_with_deputies_and_seats_per_slot(client, journey):
    station, reception = journey["station"], journey["reception"]
    for n in range(2):
        book_slot(
            reception=reception, slot_start=time(9, 30), resident_id=f"r{n}", name="李", mobile="13900000000"
        )
    db.session.commit()
    html = _html(client, station)
    assert "近期接待安排" in html and "正在接待" not in html
    weekday = "一二三四五六日"[reception.date.weekday()]
    assert f"{reception.date.month}月{reception.date.day}日（周{weekday}）" in html
    assert "09:00–10:30" in html and "代表联系服务群众日" in html
    assert "值班代表：陈立、周敏" in html
    assert '<li class="seat"><span>09:00</span> 余 2 位</li>' in html
    assert '<li class="seat is-full"><span>09:30</span> 已约满</li>' in html
    assert f'href="/s/{station.code}/book#r{reception.id}"' in html
    assert f'href="/s/{station.code}/book">预约</a>' in html
    assert f'href="/s/{station.code}/opinion">我要留言</a>' in html
    assert "暂无接待安排" not in html


def test_reception_under_way_shows_its_deputies_with_photos(client, journey, monkeypatch):
    station, reception = journey["station"], journey["reception"]
    city, town = journey["deputies"]
    image = io.BytesIO()
    Image.new("RGB", (90, 120), "#7a8fa6").save(image, "PNG")
    image.seek(0)
    set_photo(city, save_image(image, "deputies"))
    later = add_reception(
        station, [town], day=reception.date + timedelta(days=14), topic="老旧小区改造", kind="topic"
    )
    db.session.commit()
    monkeypatch.setattr("app.public.views.local_now", lambda: at(reception, time(9, 40)))
    html = _html(client, station)
    assert "正在接待 · 今天 09:00–10:30" in html
    now_block = html[html.index('class="duty-now"') : html.index("接下来")]
    assert f'src="/media/{city.photo}"' in now_block and "陈立的照片" in now_block
    assert '<span class="onduty-name">周敏</span>' in now_block
    assert "本场还有 2 个空位可预约" in now_block  # the 10:00 slot has not started yet
    assert "老旧小区改造" in html and f"#r{later.id}" in html


def test_receptions_without_booking_say_so(client, journey):
    journey["reception"].slot_capacity = 0
    db.session.commit()
    assert "本场无需预约，可直接前往" in _html(client, journey["station"])


def test_drafts_and_cancelled_receptions_are_not_shown(client, journey):
    station, deputies = journey["station"], journey["deputies"]
    journey["reception"].status = ReceptionStatus.CANCELLED
    add_reception(station, deputies, status=ReceptionStatus.DRAFT, topic="内部草稿安排", kind="topic")
    db.session.commit()
    html = _html(client, station)
    assert "内部草稿安排" not in html
    assert "暂无接待安排" in html and "我要留言" in html

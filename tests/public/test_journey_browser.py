"""The resident's journey on a phone, in a real Chromium: station → booking → opinion with a photo → tracking.

Issue 5 "Done when": open a station's page, see its deputies and who is on duty, book a
slot, leave an opinion with a photo, land on its tracking page.
"""

from __future__ import annotations

import io
import re
from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.deputies.service import create_deputy, set_photo
from app.extensions import db
from app.media.service import save_image
from app.opinions.models import Opinion
from app.receptions.models import Booking, Reception, ReceptionDuty, ReceptionStatus
from app.regions.service import create_region
from app.stations.service import create_station, place_deputy
from app.timeutil import local_now

SHOTS = {
    "station": "/tmp/h5_station.png",
    "book": "/tmp/h5_booking_form.png",
    "booked": "/tmp/h5_booking_done.png",
    "opinion": "/tmp/h5_opinion_form.png",
    "track": "/tmp/h5_tracking.png",
    "me": "/tmp/h5_me.png",
}


def _picture(colour: str, size=(300, 400)) -> bytes:
    image = Image.new("RGB", size, "#dfe6ee")
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 3, size[1] // 7, 2 * size[0] // 3, size[1] // 2), fill=colour)
    draw.rectangle((size[0] // 5, size[1] // 2, 4 * size[0] // 5, size[1]), fill="#2f3d52")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seed(app) -> dict:
    """A station with two placed deputies, one reception under way today and one in a week."""
    with app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213004", name="清名桥街道", parent=district)
        village = create_region(code="320213004003", name="清扬新村社区", parent=town)
        station = create_station(
            region=village,
            kind="station",
            data={
                "name": "清扬新村社区人大代表联络站",
                "address": "无锡市梁溪区清扬路 228 号清扬新村社区党群服务中心二楼",
                "phone": "0510-85123456",
                "opening_hours": "周一至周五 8:30-11:30，13:30-17:00",
            },
        )
        chen = create_deputy(
            region=city,
            data={"name": "陈建华", "unit": "无锡市第二人民医院", "post": "副院长、主任医师"},
            mandates=[{"level": "city", "term": "第十七届", "start_year": 2022}],
        )
        zhou = create_deputy(
            region=district,
            data={"name": "周丽萍", "unit": "清扬新村社区居民委员会", "post": "主任"},
            mandates=[{"level": "district", "term": "第十八届", "start_year": 2021}],
        )
        for deputy in (chen, zhou):
            place_deputy(station, deputy)
        set_photo(chen, save_image(io.BytesIO(_picture("#c9a27e")), "deputies"))
        set_photo(zhou, save_image(io.BytesIO(_picture("#b88a66")), "deputies"))

        now = local_now()
        # A reception under way all day today, unless the day is about to end.
        if now.time() < time(23, 50):
            today = Reception(
                station=station, date=now.date(), start=time(0, 0), end=time(23, 59), kind="topic",
                topic="老旧小区改造专题接待", slot_minutes=30, slot_capacity=0,
                status=ReceptionStatus.ANNOUNCED,
            )  # fmt: skip
            today.duties = [ReceptionDuty(deputy=zhou)]
            db.session.add(today)
        week = Reception(
            station=station, date=now.date() + timedelta(days=7), start=time(9), end=time(11, 30),
            kind="service_day", topic="代表联系服务群众日", slot_minutes=30, slot_capacity=5,
            status=ReceptionStatus.ANNOUNCED,
        )  # fmt: skip
        week.duties = [ReceptionDuty(deputy=chen), ReceptionDuty(deputy=zhou)]
        db.session.add(week)
        db.session.commit()
        seeded = {"code": station.code, "week": week.id, "on_duty_now": now.time() < time(23, 50)}
        db.session.remove()
        return seeded


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.real_commits
def test_resident_journey_on_a_phone(live_app, live_server, phone_page):
    seeded = _seed(live_app)
    page = phone_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # 1. The plaque's QR code opens the station page: deputies, who is on duty, what comes next.
    response = page.goto(f"{live_server}/s/{seeded['code']}", wait_until="networkidle")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "清扬新村社区人大代表联络站"
    assert page.locator(".deputy-name").all_inner_texts() == ["陈建华", "周丽萍"]
    if seeded["on_duty_now"]:
        assert page.get_by_text("正在接待").is_visible()
        assert page.locator(".onduty-name").all_inner_texts() == ["周丽萍"]
        assert page.locator(".duty-now img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.get_by_text("值班代表：陈建华、周丽萍").is_visible()
    assert page.locator(".seat").first.inner_text() == "09:00 余 5 位"
    assert _fits(page)
    page.screenshot(path=SHOTS["station"], full_page=True)

    # 2. Book the 09:30 slot of next week's service day.
    page.get_by_role("link", name="预约本场").click()
    page.wait_for_url(re.compile(r"/s/\w+/book"))
    page.locator(f'label.slot:has(input[value="{seeded["week"]}@09:30"])').click()
    page.get_by_label("姓名").fill("张桂英")
    page.get_by_label("手机号").fill("13812345678")
    page.get_by_label("想反映的事情").fill("老小区加装电梯的补贴政策")
    assert _fits(page)
    page.screenshot(path=SHOTS["book"], full_page=True)
    page.get_by_role("button", name="确认预约").click()
    page.wait_for_url(re.compile(r"/b/[A-Z0-9]+"))
    assert page.get_by_role("heading", name="预约成功").is_visible()
    booking_code = page.locator("#booking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{8}", booking_code)
    assert page.get_by_text("09:30–10:00").is_visible()
    assert page.get_by_text("138****5678").is_visible()
    assert _fits(page)
    page.screenshot(path=SHOTS["booked"], full_page=True)

    # 3. Back to the station, leave an opinion with a photo.
    page.get_by_role("link", name="返回站点").click()
    page.get_by_role("link", name="我要留言").click()
    page.wait_for_url(re.compile(r"/s/\w+/opinion"))
    content = "清扬新村 12 幢门口的路灯坏了两周，晚上老人出门很不方便，希望尽快修好。"
    page.get_by_label("留言内容").fill(content)
    assert page.locator('[data-counter-for="content"]').inner_text() == str(len(content))
    page.get_by_label("类别").select_option("城乡建设")
    page.set_input_files(
        "#photos", files=[{"name": "路灯.png", "mimeType": "image/png", "buffer": _picture("#f2c94c")}]
    )
    page.locator(".preview img").wait_for()
    assert "已选 1 张照片" in page.locator("[data-photo-hint]").inner_text()
    assert _fits(page)
    page.screenshot(path=SHOTS["opinion"], full_page=True)
    page.get_by_role("button", name="提交留言").click()

    # 4. The tracking page: number shown big, copy button, 待受理.
    page.wait_for_url(re.compile(r"/t/[A-Z0-9]{12}\?new=1"))
    tracking_no = urlsplit(page.url).path.rsplit("/", 1)[1]
    assert page.get_by_text("留言已提交").is_visible()
    assert page.locator("#tracking-no").inner_text().replace("-", "") == tracking_no
    assert page.locator(".status-now").inner_text() == "当前状态：待受理"
    assert page.locator('.step[aria-current="step"]').inner_text() == "待受理"
    photo = page.locator(".photos img").first
    photo.scroll_into_view_if_needed()
    # Functions, not expression strings: Playwright polls an expression with eval(), which
    # the CSP (no 'unsafe-eval') refuses.
    page.wait_for_function("() => document.querySelector('.photos img').complete")
    assert photo.evaluate("img => img.naturalWidth") > 0
    page.get_by_role("button", name="复制", exact=True).click()
    page.wait_for_function("() => document.querySelector('button.copy').textContent !== '复制'")
    assert page.locator("button.copy").inner_text() == "已复制"
    assert page.evaluate("navigator.clipboard.readText()") == tracking_no
    assert _fits(page)
    page.screenshot(path=SHOTS["track"], full_page=True)

    # 5. 我的: both are there.
    page.get_by_role("link", name="我的", exact=True).click()
    page.wait_for_url(re.compile(r"/me$"))
    assert page.get_by_text(booking_code).is_visible()
    assert page.get_by_text("清扬新村 12 幢门口的路灯").is_visible()
    assert _fits(page)
    page.screenshot(path=SHOTS["me"], full_page=True)

    assert page.js_errors == []
    # Nothing leaves the server: every request is to it, or a local blob: of the photo preview.
    outside = [
        url for url in requested if urlsplit(url).hostname != "127.0.0.1" and not url.startswith("blob:")
    ]
    assert outside == [], outside

    with live_app.app_context():
        opinion = db.session.scalar(select(Opinion).where(Opinion.tracking_no == tracking_no))
        assert opinion.content == content and opinion.category == "urban" and len(opinion.photos) == 1
        booking = db.session.scalar(select(Booking).where(Booking.code == booking_code))
        assert booking.slot_start == time(9, 30) and booking.resident_id == opinion.resident_id
        db.session.remove()

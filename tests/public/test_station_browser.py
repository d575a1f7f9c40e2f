"""The station page on a phone, in a real Chromium: readable, no sideways scroll, nothing external."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageDraw

from app.deputies.service import create_deputy, set_photo
from app.extensions import db
from app.media.service import save_image
from app.regions.service import create_region
from app.stations.service import create_station, place_deputy

SCREENSHOT = "/tmp/station_page.png"


def _portrait() -> io.BytesIO:
    image = Image.new("RGB", (300, 400), "#dfe6ee")
    draw = ImageDraw.Draw(image)
    draw.ellipse((95, 60, 205, 185), fill="#c9a27e")
    draw.rectangle((60, 210, 240, 400), fill="#2f3d52")
    out = io.BytesIO()
    image.save(out, "PNG")
    out.seek(0)
    return out


def _seed(app) -> str:
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
                "intro": "联络站设在社区党群服务中心，面积约 35 平方米，设接待区和展示区。\n"
                "编入的各级人大代表定期在此接待选民，听取大家对社区治理、老旧小区改造的意见建议。",
                "lat": "31.558210",
                "lng": "120.311530",
                "area_m2": "35",
            },
        )
        city_deputy = create_deputy(
            region=city,
            data={
                "name": "陈建华",
                "unit": "无锡市第二人民医院",
                "post": "副院长、主任医师",
                "public_contact": "0510-68562000",
            },
            mandates=[{"level": "city", "term": "第十七届", "start_year": 2022}],
        )
        town_deputy = create_deputy(
            region=district,
            data={
                "name": "周丽萍",
                "unit": "清扬新村社区居民委员会",
                "post": "主任",
                "public_contact": "13961800000",
            },
            mandates=[
                {"level": "district", "term": "第十八届", "start_year": 2021},
                {"level": "town", "term": "第十八届", "start_year": 2021},
            ],
        )
        place_deputy(station, town_deputy)
        place_deputy(station, city_deputy)
        set_photo(city_deputy, save_image(_portrait(), "deputies"))
        db.session.commit()
        return station.code


@pytest.mark.browser
def test_station_page_on_a_phone(live_app, live_server, phone_page):
    code = _seed(live_app)
    requested: list[str] = []
    phone_page.on("request", lambda request: requested.append(request.url))

    response = phone_page.goto(f"{live_server}/s/{code}", wait_until="networkidle")
    assert response.status == 200
    assert phone_page.locator("h1").inner_text() == "清扬新村社区人大代表联络站"
    names = phone_page.locator(".deputy-name").all_inner_texts()
    assert names == ["陈建华", "周丽萍"]  # 市人大代表 first
    assert phone_page.locator(".deputy img").first.is_visible()
    assert phone_page.get_by_text("暂无接待安排").is_visible()

    # The lazy photo is below the fold; bring it in so its request is recorded too.
    phone_page.locator(".deputy img").first.scroll_into_view_if_needed()
    # A function, not an expression string: Playwright polls an expression with eval(), which
    # the CSP (no 'unsafe-eval') refuses.
    phone_page.wait_for_function("() => document.querySelector('.deputy img').complete")
    assert phone_page.evaluate("document.querySelector('.deputy img').naturalWidth") > 0

    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone_page.js_errors == []
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, requested
    assert any(url.endswith("/static/public/site.css") for url in requested)
    assert any("/media/deputies/" in url for url in requested)
    phone_page.screenshot(path=SCREENSHOT, full_page=True)


@pytest.mark.browser
def test_unknown_station_on_a_phone(live_server, phone_page):
    response = phone_page.goto(f"{live_server}/s/nosuch")
    assert response.status == 404
    assert phone_page.get_by_text("未找到该家站点").is_visible()
    phone_page.get_by_role("link", name="查看全部家站点").click()
    phone_page.wait_for_url(f"{live_server}/")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone_page.js_errors == []

"""In a real browser: an ended reception becomes a ledger entry, and the deputy's archive shows it."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from app.auth.service import create_user
from app.deputies.service import create_deputy
from app.extensions import db
from app.opinions.service import submit_opinion
from app.receptions.models import Booking, BookingStatus
from app.regions.service import create_region
from app.stations.service import create_station, place_deputy
from app.timeutil import local_now
from tests.factories import build_reception

PASSWORD = "browser-pass-1"


def seed(live_app) -> dict:
    """A station, its deputy and staff, yesterday's announced reception with one resident and an opinion."""
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        village = create_region(code="320213001001", name="健康社区", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "健康社区人大代表联络站", "address": "健康路 1 号"}
        )
        deputy = create_deputy(
            region=town,
            data={"name": "周文华", "unit": "健康社区", "post": "书记"},
            mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
        )
        place_deputy(station, deputy)
        create_user(
            None,
            {
                "username": "browser_station",
                "display_name": "站务员",
                "role": "station_staff",
                "station_id": str(station.id),
                "password": PASSWORD,
            },
        )
        day = local_now().date() - timedelta(days=1)
        reception = build_reception(station, [deputy], day=day, start=time(9), end=time(11), capacity=3)
        db.session.add(
            Booking(
                code="BRWS0001",
                reception_id=reception.id,
                slot_start=time(9),
                seat=1,
                resident_id="browser-resident",
                name="居民甲",
                mobile="13900001111",
                topic="老旧小区加装电梯",
                status=BookingStatus.ATTENDED,
            )
        )
        submit_opinion(
            station=station, content="建议小区加装电梯", channel="staff", reception=reception, deputy=deputy
        )
        db.session.commit()
        return {"reception": reception.id, "deputy": deputy.id}


@pytest.mark.browser
def test_record_an_ended_reception_and_open_the_archive(live_app, live_server, desktop_page):
    ids = seed(live_app)
    page = desktop_page
    page.goto(f"{live_server}/console/receptions/{ids['reception']}")
    page.fill("#f-username", "browser_station")
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**/console/receptions/{ids['reception']}")

    page.click("button:has-text('结束接待，登记台账')")
    page.wait_for_selector("text=已根据本场预约")
    assert "/console/ledger/" in page.url
    content = page.content()
    assert "到场 1 人次" in content and "老旧小区加装电梯" in content
    assert "建议小区加装电梯" in content  # the reception's opinion is linked

    page.click("button:has-text('登记')")
    page.wait_for_selector("text=已登记入台账")
    assert "退回草稿" in page.content()

    page.goto(f"{live_server}/console/ledger/archive/{ids['deputy']}")
    row = page.locator("table.requirements tr", has_text="到家站点接待选民群众")
    assert "已达到" in row.inner_text()
    study = page.locator("table.requirements tr", has_text="参加集中履职学习")
    assert "差 2 次" in study.inner_text()
    assert page.locator(".stat", has_text="接待群众人次").inner_text().startswith("1")
    page.emulate_media(media="print")
    assert not page.locator("#sidenav").is_visible()  # the printable page drops the console chrome
    assert page.js_errors == []

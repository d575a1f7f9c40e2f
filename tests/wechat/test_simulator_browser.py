"""The newcomer's path in a real browser: open the simulator, scan a station, leave a 留言, get its number."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.service import create_user
from app.extensions import db
from app.opinions.models import Opinion
from app.regions.service import create_region
from app.stations.service import create_station

PASSWORD = "browser-pass-1"


def seed(live_app) -> str:
    """A station with coordinates and its staff account; returns the station code."""
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        village = create_region(code="320213001001", name="健康里社区", parent=town)
        station = create_station(
            region=village,
            kind="station",
            data={
                "name": "健康里社区人大代表联络站",
                "address": "健康里 8 号",
                "lat": "31.5770",
                "lng": "120.3000",
            },
        )
        create_user(
            None,
            {
                "username": "sim_staff",
                "display_name": "模拟器测试员",
                "role": "station_staff",
                "station_id": str(station.id),
                "password": PASSWORD,
            },
        )
        db.session.commit()
        return station.code


@pytest.mark.browser
def test_scan_and_leave_an_opinion_in_the_simulator(live_app, live_server, phone_page):
    code = seed(live_app)
    page = phone_page
    page.goto(live_server + "/console/wechat/simulator")
    page.fill("#f-username", "sim_staff")
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url("**/console/wechat/simulator")

    page.select_option("#wxsim-station", code)
    page.click("button[data-kind=scan]")
    page.wait_for_selector("#wxsim-chat li.them:has-text('健康里社区人大代表联络站')")

    page.fill("#wxsim-content", "留言 小区门口的路灯坏了两周，晚上出行不便")
    page.click("#wxsim-text button[type=submit]")
    reply = page.wait_for_selector("#wxsim-chat li.them:has-text('查询编号')")
    tracking_no = re.search(r"查询编号：([0-9A-Z]{12})", reply.inner_text()).group(1)

    page.click(".wxsim-menu-btn:has-text('办理进度')")
    page.wait_for_selector(f"#wxsim-chat li.them:has-text('{tracking_no}') >> nth=1")
    # The log under the phone says in words what came in and what was done with it.
    page.wait_for_selector(f"#wxsim-log tr:has-text('留言已登记 {tracking_no}')")
    log = page.inner_text("#wxsim-log")
    assert "点击菜单" in log and "回复我的留言" in log and "opinion_created" not in log
    assert page.js_errors == []

    with live_app.app_context():
        opinion = db.session.scalar(select(Opinion).where(Opinion.tracking_no == tracking_no))
        assert opinion is not None and opinion.channel == "wechat" and opinion.resident_id == "sim-sim_staff"

"""The dashboard in a real browser: charts render from the vendored Chart.js, no console errors,
and a click on a chart bar or a number opens the opinions behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.service import create_user
from app.extensions import db
from app.regions.service import create_region
from app.stations.service import create_station
from app.timeutil import local_now
from tests.analytics.data import add, at

PASSWORD = "browser-pass-1"


def seed(live_app) -> dict:
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        station = create_station(
            region=town,
            kind="home",
            data={"name": "崇安寺街道人大代表之家", "address": "中山路1号", "phone": "0510-1"},
        )
        # "traffic" (交通出行) is one of the categories the migrations seed.
        create_user(
            None,
            {
                "username": "browser_city",
                "display_name": "浏览器测试员",
                "role": "city_admin",
                "region_id": str(city.id),
                "password": PASSWORD,
            },
        )
        today = local_now().date()
        numbers = []
        for i in range(3):
            o = add(station, at(today - timedelta(days=i + 1)), f"中山路第{i}个路灯坏了", category="traffic")
            numbers.append(o.tracking_no)
        db.session.commit()
        return {"numbers": numbers}


@pytest.mark.browser
def test_dashboard_charts_and_drill_down(live_app, live_server, desktop_page):
    data = seed(live_app)
    page = desktop_page
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(live_server + "/console/analytics/")
    page.fill("#f-username", "browser_city")
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url("**/console/analytics/")
    page.wait_for_selector("#chart-trend[data-rendered='1']")
    page.wait_for_selector("#chart-categories[data-rendered='1']")
    # Chart.js drew something: the canvas has a size and non-blank pixels.
    drawn = page.evaluate(
        """() => { const c = document.getElementById('chart-categories');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) { if (px[i]) n++; } return n; }"""
    )
    assert drawn > 100
    # Counts are whole numbers: no "0.5 条" on a value axis, however few opinions there are.
    ticks = page.evaluate(
        """() => ['chart-trend', 'chart-categories'].flatMap(id =>
        document.getElementById(id).chart.scales.y.ticks.map(t => t.value))"""
    )
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert page.js_errors == [] and missing == []
    assert console_errors == []

    # A click on the category bar opens the opinions of that category.
    box = page.evaluate(
        """() => { const c = document.getElementById('chart-categories');
        const bar = c.chart.getDatasetMeta(0).data[0]; const r = c.getBoundingClientRect();
        return {x: r.left + bar.x, y: r.top + (bar.y + bar.base) / 2}; }"""
    )
    page.mouse.click(box["x"], box["y"])
    page.wait_for_url("**/console/analytics/opinions?*category=traffic*")
    assert "共 3 条" in page.content()
    for number in data["numbers"]:
        assert number in page.content()

    # And a KPI number drills down too, into an opinion's own page.
    page.go_back()
    page.wait_for_selector("#chart-trend[data-rendered='1']")
    page.click("[data-kpi='received'] .an-card-value a")
    page.wait_for_url("**/console/analytics/opinions?*metric=received*")
    page.click(f"text={data['numbers'][0]}")
    page.wait_for_url(f"**/console/opinions/{data['numbers'][0]}")
    assert page.js_errors == [] and missing == []

"""The console in a real browser: sign in through the form (CSRF on), create a station, use it on a phone."""

from __future__ import annotations

import pytest

from app.auth.service import create_user
from app.extensions import db
from app.regions.service import create_region

PASSWORD = "browser-pass-1"


def seed(live_app) -> int:
    """A city admin and one district; returns the district's id."""
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
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
        db.session.commit()
        return district.id


def sign_in(page, base: str, next_path: str = "/console/") -> None:
    page.goto(base + next_path)
    assert "/console/login" in page.url
    page.fill("#f-username", "browser_city")
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**{next_path}")


@pytest.mark.browser
def test_create_a_station_through_the_form(live_app, live_server, desktop_page):
    district_id = seed(live_app)
    page = desktop_page
    sign_in(page, live_server, "/console/stations/")
    assert "没有符合条件的家站点" in page.content()

    page.click("text=新建家站点")
    page.select_option("#f-region_id", str(district_id))
    page.select_option("#f-kind", "home")
    page.fill("#f-name", "梁溪区人大代表之家")
    page.fill("#f-address", "无锡市梁溪区解放南路 1 号")
    page.fill("#f-phone", "0510-82700000")
    page.fill("#f-opening_hours", "工作日 9:00-17:00")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已新建人大代表之家")
    assert "/console/stations/" in page.url

    page.click("#sidenav >> text=家站点")
    page.wait_for_url("**/console/stations/")
    row = page.locator("table tbody tr", has_text="梁溪区人大代表之家")
    assert row.count() == 1
    assert "人大代表之家" in row.inner_text() and "梁溪区" in row.inner_text()
    assert page.js_errors == []


@pytest.mark.browser
def test_the_console_on_a_phone(live_app, live_server, phone_page):
    seed(live_app)
    page = phone_page
    sign_in(page, live_server)
    assert "您好，浏览器测试员" in page.content()
    nav = page.locator("#sidenav")
    toggle = page.locator("button.nav-toggle")
    assert toggle.is_visible() and not nav.is_visible()
    toggle.click()
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    page.click("#sidenav >> text=代表")
    page.wait_for_url("**/console/deputies/")
    assert page.locator("h1", has_text="人大代表").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    assert page.js_errors == []

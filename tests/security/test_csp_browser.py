"""In a real Chromium: the CSP is enforced and no page of the console or H5 breaks it.

Every CSP violation shows as a ``securitypolicyviolation`` event in the page (collected by a
script Playwright adds before any of the page's own) and as a console error; both are
gathered on the main public pages, every console page the navigation reaches, the WeChat
simulator (sending a message) and the plaque preview.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from app.auth.service import create_user
from app.deputies.service import create_deputy, set_photo
from app.extensions import db
from app.media.service import save_image
from app.opinions.service import submit_opinion
from app.receptions.bookings import book_slot
from app.regions.service import create_region
from app.stations.service import create_station, place_deputy
from app.timeutil import local_now
from tests.factories import build_reception

PASSWORD = "browser-pass-1"
COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = " @" + e.sourceFile + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + where);
});
"""


def _seed(app) -> dict:
    with app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213004", name="清名桥街道", parent=district)
        village = create_region(code="320213004003", name="清扬新村社区", parent=town)
        station = create_station(
            region=village,
            kind="station",
            data={"name": "清扬新村社区人大代表联络站", "address": "清扬路 228 号"},
        )
        deputy = create_deputy(
            region=district,
            data={"name": "周丽萍", "unit": "清扬新村社区居民委员会", "post": "主任"},
            mandates=[{"level": "district", "term": "第十八届", "start_year": 2021}],
        )
        place_deputy(station, deputy)
        picture = io.BytesIO()
        Image.new("RGB", (60, 80), "#b88a66").save(picture, "PNG")
        picture.seek(0)
        set_photo(deputy, save_image(picture, "deputies"))
        day = (local_now() + timedelta(days=7)).date()
        reception = build_reception(station, [deputy], day=day)
        booking = book_slot(
            reception=reception,
            slot_start=reception.start,
            resident_id="anon-x",
            name="李阿姨",
            mobile="13900001111",
        )
        opinion = submit_opinion(
            station=station,
            content="小区门口路灯坏了，请尽快维修。",
            channel="h5",
            contact_mobile="13912345678",
        )
        create_user(
            None,
            {"username": "csp_city", "display_name": "测试", "role": "city_admin", "region_id": str(city.id),
             "password": PASSWORD},
        )  # fmt: skip
        db.session.commit()
        return {
            "station": station.code,
            "station_id": station.id,
            "tracking": opinion.tracking_no,
            "booking": booking.code,
            "reception_id": reception.id,
        }


class Watch:
    """Collects CSP violations (events and console errors) and JS errors of one page.

    Also every resource a page asked for and did not get (a stylesheet, script, image or the
    icon browsers fetch by themselves): the console reports each as "Failed to load resource".
    A page that is itself a 404 (a test of the not-found page) does not count.
    """

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.missing: list[str] = []
        page.add_init_script(COLLECT)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and url != self.page.url:
            self.missing.append(f"{url} ({message.text}) on {self.page.url}")

    def visit(self, url: str):
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        return response

    def violations(self) -> list[str]:
        try:
            events = self.page.evaluate("() => window.__csp || []")
        except Exception:  # a navigation in progress: the next check reads them
            events = []
        return list(events) + self.console


@pytest.mark.browser
def test_no_csp_violations_anywhere(live_app, live_server, phone_page, desktop_page):
    seeded = _seed(live_app)
    base = live_server
    found: dict[str, list[str]] = {}

    phone = Watch(phone_page)
    public = [
        "/",
        f"/s/{seeded['station']}",
        f"/s/{seeded['station']}/book",
        f"/s/{seeded['station']}/opinion",
        f"/t/{seeded['tracking']}",
        "/t",
        "/me",
        "/no-such-page",
        "/s/NOSUCHCODE",
    ]
    for path in public:
        response = phone.visit(base + path)
        assert response.headers.get("content-security-policy", "").startswith("default-src 'self'"), path
        if phone.violations():
            found[path] = phone.violations()
    # Use the page's scripts: the copy button on the tracking page, the opinion form's photo picker.
    phone.visit(f"{base}/t/{seeded['tracking']}")
    if phone_page.locator("[data-copy]").count():
        phone_page.locator("[data-copy]").first.click()
    if phone.violations():
        found["/t (copy)"] = phone.violations()
    assert not phone_page.js_errors, phone_page.js_errors

    desk = Watch(desktop_page)
    desk.visit(base + "/console/login")
    desktop_page.fill("#f-username", "csp_city")
    desktop_page.fill("#f-password", PASSWORD)
    desktop_page.click("button:has-text('登录')")
    desktop_page.wait_for_url("**/console/")
    console_pages = {
        "/console/",
        f"/console/opinions/{seeded['tracking']}",
        f"/console/stations/{seeded['station_id']}",
        f"/console/receptions/{seeded['reception_id']}",
        "/console/wechat/simulator",
        "/console/plaques/",
        "/console/password",
    }
    links = desktop_page.eval_on_selector_all(
        "a[href^='/console']", "els => els.map(e => e.getAttribute('href'))"
    )
    console_pages.update(
        href for href in links if "logout" not in href and not href.endswith((".csv", ".pdf", ".png", ".zip"))
    )
    assert len(console_pages) >= 12, console_pages  # the whole navigation, not just a few pages
    for path in sorted(console_pages):
        response = desk.visit(base + path)
        assert response.status < 500, path
        if desk.violations():
            found[path] = desk.violations()

    # The simulator's script talks to the server with fetch and writes the chat.
    desk.visit(base + "/console/wechat/simulator")
    replies = desktop_page.locator("#wxsim-chat li").count()
    desktop_page.fill("#wxsim-content", "值班")
    desktop_page.click("#wxsim-text button[type=submit]")
    desktop_page.wait_for_function(
        f"() => document.querySelectorAll('#wxsim-chat li').length >= {replies + 2}"  # sent + reply
    )
    assert "/console/wechat/simulator" in desktop_page.url  # the script sent it, no page load
    if desk.violations():
        found["/console/wechat/simulator (send)"] = desk.violations()
    # The plaque preview image on the station page loads under img-src 'self'.
    desk.visit(f"{base}/console/stations/{seeded['station_id']}")
    # The preview is rendered on request (a second or more under load): wait for it.
    desktop_page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=30_000)
    images = desktop_page.eval_on_selector_all(
        "img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])"
    )
    assert all(ok for _src, ok in images), images
    assert not desktop_page.js_errors, desktop_page.js_errors
    assert not found, found
    assert phone.missing + desk.missing == []


@pytest.mark.browser
def test_the_browser_enforces_it_and_the_watch_sees_it(live_app, live_server, phone_page):
    """The detector is live: an inline script and style injected into a page are blocked and reported."""
    watch = Watch(phone_page)
    watch.visit(live_server + "/")
    phone_page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__ran = 1";
          document.body.appendChild(s);
          const d = document.createElement("div");
          d.setAttribute("style", "color:red");
          document.body.appendChild(d);
        }"""
    )
    phone_page.wait_for_timeout(300)
    assert phone_page.evaluate("() => window.__ran") is None  # blocked
    kinds = " ".join(watch.violations())
    assert "script-src" in kinds and "style-src" in kinds

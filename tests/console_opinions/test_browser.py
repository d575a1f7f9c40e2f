"""One opinion from 待受理 to 已办结 in a real Chromium (CSRF on): a resident on a phone, then
station staff, the district admin and the handling unit in the console, the resident's
tracking page checked after every step, and the resident's 满意 closing it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.auth.service import create_user
from app.extensions import db
from app.notify.models import AuditEntry
from app.opinions.models import Opinion
from app.regions.service import create_region
from app.stations.service import create_station
from app.units.service import create_unit

PASSWORD = "browser-pass-1"
SHOTS = {
    "detail": "/tmp/console_opinion_detail.png",
    "inbox": "/tmp/console_opinion_inbox.png",
    "unit": "/tmp/console_opinion_unit_reply.png",
    "rate": "/tmp/h5_opinion_rate.png",
    "actions": "/tmp/console_opinion_actions.png",
}
CONTENT = "清扬新村 12 幢门口的路灯坏了两周，晚上老人出门很不方便，希望尽快修好。"


def _seed(live_app) -> str:
    """A district, town and village, its station, staff, district admin and unit; the station code."""
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="清扬街道", parent=district)
        village = create_region(code="320213001001", name="清扬新村社区", parent=town)
        station = create_station(
            region=village,
            kind="station",
            data={"name": "清扬新村社区人大代表联络站", "address": "清扬路 100 号", "phone": "0510-82000000"},
        )
        unit = create_unit(region=district, code="LXZJJ", data={"name": "梁溪区住房和城乡建设局"})
        for username, name, role, key, target in (
            ("qy_station", "王芳", "station_staff", "station_id", station),
            ("lx_district", "李强", "district_admin", "region_id", district),
            ("lx_zjj", "赵敏", "unit_staff", "unit_id", unit),
        ):
            create_user(
                None,
                {
                    "username": username,
                    "display_name": name,
                    "role": role,
                    key: str(target.id),
                    "password": PASSWORD,
                },
            )
        db.session.commit()
        code = station.code
        db.session.remove()
        return code


def _sign_in(page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/console/login?next={next_path}")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**{next_path}")


def _sign_out(page) -> None:
    page.click("button:has-text('退出登录')")
    page.wait_for_url("**/console/login**")


def _do(page, action: str, button: str, **fields) -> None:
    """Open one action's form on the opinion page, fill it, submit it, see it succeed."""
    box = page.locator(f"#do-{action}")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    for name, value in fields.items():
        field = box.locator(f"[name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():  # the previous step's notice is still on the page until then
        box.get_by_role("button", name=button, exact=True).click()
    assert page.locator(".flash-success").is_visible(), page.locator(".flash-error").all_inner_texts()


def _resident_sees(phone, base: str, number: str, status: str) -> None:
    phone.goto(f"{base}/t/{number}")
    assert phone.locator(".status-now").inner_text() == f"当前状态：{status}"


@pytest.mark.browser
@pytest.mark.real_commits
def test_one_opinion_through_the_loop(live_app, live_server, desktop_page, phone_page):
    code = _seed(live_app)
    phone, page = phone_page, desktop_page

    # A resident leaves an opinion on the station's page.
    phone.goto(f"{live_server}/s/{code}/opinion")
    phone.get_by_label("留言内容").fill(CONTENT)
    phone.get_by_label("称呼").fill("张桂英")
    phone.get_by_label("手机号").fill("13812345678")
    phone.get_by_role("button", name="提交留言").click()
    phone.wait_for_url(re.compile(r"/t/[A-Z0-9]{12}\?new=1"))
    number = urlsplit(phone.url).path.rsplit("/", 1)[1]
    assert phone.locator(".status-now").inner_text() == "当前状态：待受理"
    detail = f"/console/opinions/{number}"

    # Station staff: the opinion waits in their inbox; accept and classify it.
    _sign_in(page, live_server, "qy_station", "/console/opinions/?todo=1")
    row = page.locator("table tbody tr", has_text=number)
    assert row.count() == 1 and "待受理" in row.inner_text()
    row.get_by_role("link", name=number).click()
    page.wait_for_url(f"**{detail}")
    assert page.get_by_text("张**", exact=True).is_visible() and page.get_by_text("138****5678").is_visible()
    assert page.locator("text=13812345678").count() == 0
    _do(page, "accept", "受理")
    _resident_sees(phone, live_server, number, "已受理")
    _do(page, "classify", "保存分类", category="urban")
    assert "已分类" in page.locator(".op-flags").inner_text()
    _resident_sees(phone, live_server, number, "已分类")
    _sign_out(page)

    # The district admin assigns it to the unit.
    _sign_in(page, live_server, "lx_district", "/console/opinions/?status=classified")
    page.screenshot(path=SHOTS["inbox"], full_page=True)
    page.locator("table tbody tr", has_text=number).get_by_role("link", name=number).click()
    page.wait_for_url(f"**{detail}")
    page.locator("#do-assign summary").click()
    page.screenshot(path=SHOTS["actions"], full_page=True)
    _do(page, "assign", "交办", unit_code="LXZJJ")
    assert "梁溪区住房和城乡建设局" in page.locator(".facts").first.inner_text()
    _resident_sees(phone, live_server, number, "已交办")
    _sign_out(page)

    # The unit replies; it may reveal the contact, which is logged.
    _sign_in(page, live_server, "lx_zjj", detail)
    page.get_by_role("button", name="查看联系方式").click()
    page.wait_for_selector("text=13812345678")
    _do(page, "reply", "提交答复", text="已安排维修班组，三个工作日内更换灯具。")
    page.screenshot(path=SHOTS["unit"], full_page=True)
    _resident_sees(phone, live_server, number, "已答复")
    _sign_out(page)

    # Station staff feed the answer back to the resident.
    _sign_in(page, live_server, "qy_station", detail)
    _do(page, "feedback", "反馈群众")
    page.screenshot(path=SHOTS["detail"], full_page=True)
    _resident_sees(phone, live_server, number, "已反馈")
    assert phone.get_by_text("已安排维修班组，三个工作日内更换灯具。").is_visible()

    # The resident is satisfied: 已办结.
    phone.locator("label.slot", has_text="满意").first.click()
    phone.screenshot(path=SHOTS["rate"], full_page=True)
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_url(re.compile(r"rated=1"))
    assert phone.locator(".status-now").inner_text() == "当前状态：已办结"
    page.reload()
    assert "已办结" in page.locator(".op-flags").inner_text()
    assert "满意" in page.locator("text=群众评价").locator("xpath=..").inner_text()

    assert page.js_errors == [] and phone.js_errors == []
    with live_app.app_context():
        opinion = db.session.scalar(select(Opinion).where(Opinion.tracking_no == number))
        assert [e.action for e in opinion.events] == [
            "submit",
            "accept",
            "classify",
            "assign",
            "reply",
            "feedback",
            "rate",
        ]
        assert opinion.satisfaction == "satisfied"
        reveals = db.session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "reveal_contact")
        ).all()
        assert reveals == ["staff:lx_zjj"]
        db.session.remove()

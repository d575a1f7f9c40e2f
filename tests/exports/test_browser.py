"""An export in a real browser: start it from the inbox, watch the progress bar, download the file."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import openpyxl
import pytest

from app.auth.service import create_user
from app.exports import xlsx
from app.extensions import db
from app.opinions.models import Opinion
from app.regions.service import create_region
from app.stations.service import create_station
from app.timeutil import LOCAL_TZ

PASSWORD = "browser-pass-1"
OPINIONS = 2500


def seed(live_app) -> None:
    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        station = create_station(
            region=district, kind="home", data={"name": "测试之家", "address": "解放南路1号", "phone": ""}
        )
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        village = create_region(code="320213001001", name="某社区", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "某社区联络站", "address": "某路1号", "phone": ""}
        )
        start = datetime(2026, 5, 1, 9, tzinfo=LOCAL_TZ)
        db.session.add_all(
            Opinion(
                tracking_no=f"BR{n:08d}",
                channel="h5",
                station=station,
                content=f"第{n}条意见",
                contact_mobile="13912345678",
                status="pending",
                created_at=start + timedelta(minutes=n),
            )
            for n in range(OPINIONS)
        )
        create_user(
            None,
            {
                "username": "browser_district",
                "display_name": "区管理员",
                "role": "district_admin",
                "region_id": str(district.id),
                "password": PASSWORD,
            },
        )
        db.session.commit()


@pytest.mark.browser
def test_export_opinions_with_progress_and_download(
    live_app, live_server, desktop_page, monkeypatch, tmp_path
):
    seed(live_app)
    # Slow the rows down (the server runs in this process) so the bar is seen moving.
    fast_write = xlsx._write_cell

    def slow_write(*args):
        time.sleep(0.0001)
        return fast_write(*args)

    monkeypatch.setattr(xlsx, "_write_cell", slow_write)
    page, base = desktop_page, live_server
    responses = []
    page.on("response", lambda r: responses.append(r) if r.url.endswith("/progress") else None)
    page.goto(base + "/console/opinions/?status=pending")
    page.fill("#f-username", "browser_district")
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url("**/console/opinions/**")
    page.click("button:has-text('按当前筛选导出 Excel')")
    page.wait_for_url("**/console/exports/*")
    assert page.locator("#export-progress").is_visible()
    link = page.locator("#export-download")
    assert link.is_hidden()
    page.wait_for_selector("#export-job[data-state='done']", timeout=60_000)
    assert link.is_visible()
    assert page.locator("#export-percent").inner_text() == "100"
    assert page.locator("#export-state").inner_text() == "已完成"
    progress = [r.json() for r in responses]
    assert progress, page.locator("#export-job").get_attribute("data-state")
    assert progress[-1]["state"] == "done" and progress[-1]["done"] == OPINIONS
    percents = [p["percent"] for p in progress]
    assert percents == sorted(percents)
    assert any(0 < p < 100 for p in percents), percents  # seen part-way
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "跟踪号" and len(rows) == 1 + OPINIONS
    assert {r[6] for r in rows[1:]} == {"139****5678"}
    assert page.js_errors == []

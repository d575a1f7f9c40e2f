"""Leaving an opinion on the H5 page: validation, photos, who it is addressed to, rate limits."""

from __future__ import annotations

import io
import re
from datetime import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.opinions.models import Opinion
from tests.public.conftest import at, resident_id


def _png(color="red", size=(60, 40)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _post(browser, station, **fields):
    data = {"content": "小区门口的路灯坏了两周，晚上出行不便。", **fields}
    return browser.post(f"/s/{station.code}/opinion", data=data, content_type="multipart/form-data")


def _opinions(station) -> list[Opinion]:
    return list(
        db.session.scalars(select(Opinion).where(Opinion.station_id == station.id).order_by(Opinion.id))
    )


def test_form_has_counter_categories_deputies_photos_and_the_push_note(resident, journey):
    response = resident().get(f"/s/{journey['station'].code}/opinion")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert 'data-counter-for="content"' in html and "/ 2000 字，至少 5 个字" in html
    assert '<option value="community">社区治理</option>' in html
    assert ">陈立</option>" in html and ">周敏</option>" in html
    assert 'type="file" accept="image/*" multiple data-max-files="3" data-max-mb="5"' in html
    assert "无法给您发送办理进展的提醒" in html  # outside WeChat: no push, say so
    assert "/static/public/h5.js" in html
    inside = resident(wechat_openid="oWxForm1").get(f"/s/{journey['station'].code}/opinion")
    assert "通过本公众号微信消息告诉您" in inside.get_data(as_text=True)


def test_submit_redirects_to_the_tracking_page(resident, journey):
    station = journey["station"]
    browser = resident()
    response = _post(browser, station, category="城乡建设", name="王秀英", mobile="13912345678")
    assert response.status_code == 303
    number = re.match(r"^/t/([A-Z0-9]{12})\?new=1$", response.headers["Location"]).group(1)
    (opinion,) = _opinions(station)
    assert opinion.tracking_no == number
    assert opinion.channel == "h5" and opinion.category == "urban"
    assert opinion.resident_id == resident_id(browser)
    assert opinion.contact_name == "王秀英" and opinion.contact_mobile == "13912345678"
    assert opinion.content_check == "unchecked"  # anonymous: no openid to check with
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "留言已提交" in page
    grouped = "-".join(number[i : i + 4] for i in range(0, 12, 4))
    assert f'<p class="code-big" id="tracking-no">{grouped}</p>' in page
    assert f'data-copy="{number}"' in page and ">复制</button>" in page
    assert "待受理" in page


def test_a_wechat_resident_is_checked_and_owns_the_opinion(resident, journey):
    station = journey["station"]
    browser = resident(wechat_openid="oWxOwner00000000000000000001")
    assert _post(browser, station).status_code == 303
    (opinion,) = _opinions(station)
    assert opinion.resident_id == "oWxOwner00000000000000000001"
    assert opinion.content_check == "pass"


def test_rejected_content_keeps_the_form_and_stores_nothing(resident, journey):
    station = journey["station"]
    browser = resident(wechat_openid="oWxRisky0000000000000000001")
    response = _post(browser, station, content="有人在小区里聚众赌博，请管一管", name="老李")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "未通过微信内容安全检测" in html
    assert "有人在小区里聚众赌博，请管一管</textarea>" in html and 'value="老李"' in html
    assert _opinions(station) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content": "太短"}, "至少 5 个字"),
        ({"content": "路灯坏了\x00很久了"}, "包含无效字符"),
        ({"content": "长" * 2001}, "不能超过 2000 个字"),
        ({"mobile": "1391234"}, "11 位手机号"),
        ({"category": "<b>乱填</b>"}, "请从列表中选择类别"),
        ({"deputy": "999999"}, "请从本站的代表中选择"),
        ({"deputy": "abc"}, "请从本站的代表中选择"),
        ({"name": "名" * 33}, "不能超过 32 个字"),
    ],
)
def test_bad_input_keeps_the_form(resident, journey, fields, message):
    station = journey["station"]
    response = _post(resident(), station, **{"name": "老张", **fields})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "老张" in html or "name" in fields
    assert _opinions(station) == []


def test_a_deputy_of_another_station_cannot_be_chosen(resident, journey, make_deputy, make_station):
    other = make_station(journey["tree"]["village_b"], "station")
    stranger = make_deputy(journey["tree"]["town_b"], name="外站代表", station=other)
    db.session.commit()
    response = _post(resident(), journey["station"], deputy=str(stranger.id))
    assert response.status_code == 422


def test_choosing_a_deputy_on_duty_links_the_reception(resident, journey, monkeypatch):
    station, reception = journey["station"], journey["reception"]
    _city, town = journey["deputies"]
    monkeypatch.setattr("app.public.views.local_now", lambda: at(reception, time(9, 40)))
    browser = resident()
    form = browser.get(f"/s/{station.code}/opinion").get_data(as_text=True)
    assert f'<option value="{town.id}">周敏（正在接待）</option>' in form
    assert _post(browser, station, deputy=str(town.id)).status_code == 303
    opinion = _opinions(station)[-1]
    assert opinion.deputy_id == town.id and opinion.reception_id == reception.id


def test_a_deputy_chosen_outside_a_reception_has_no_reception(resident, journey):
    station = journey["station"]
    city, _town = journey["deputies"]
    assert _post(resident(), station, deputy=str(city.id)).status_code == 303
    opinion = _opinions(station)[-1]
    assert opinion.deputy_id == city.id and opinion.reception_id is None


def test_photos_are_uploaded_reencoded_and_shown(app, resident, journey):
    station = journey["station"]
    browser = resident()
    response = _post(browser, station, photos=[(_png(), "现场1.png"), (_png("blue"), "现场2.png")])
    assert response.status_code == 303
    (opinion,) = _opinions(station)
    assert len(opinion.photos) == 2
    for photo in opinion.photos:
        assert (Path(app.config["UPLOAD_FOLDER"]) / photo.path).read_bytes()[:3] == b"\xff\xd8\xff"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    for photo in opinion.photos:
        assert f'src="/media/{photo.path}"' in page
    assert browser.get(f"/media/{opinion.photos[0].path}").status_code == 200


def test_an_empty_file_field_is_no_photo(resident, journey):
    station = journey["station"]
    response = _post(resident(), station, photos=[(io.BytesIO(b""), "")])
    assert response.status_code == 303
    assert _opinions(station)[0].photos == []


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        ([(io.BytesIO(b"not an image at all"), "a.png")], "无法识别的图片文件"),
        ([(_png(), f"{n}.png") for n in range(4)], "最多上传 3 张照片"),
    ],
)
def test_bad_photos_keep_the_form_and_say_to_pick_again(resident, journey, photos, message):
    station = journey["station"]
    response = _post(resident(), station, photos=photos, name="老张")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "照片需要重新选择" in html and 'value="老张"' in html
    assert _opinions(station) == []


def test_a_too_large_photo_is_refused(app, resident, journey, monkeypatch):
    monkeypatch.setattr("app.opinions.service.PHOTO_MAX_BYTES", 1000)
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    buffer.seek(0)
    response = _post(resident(), journey["station"], photos=[(buffer, "big.png")])
    assert response.status_code == 422
    assert "图片不能超过" in response.get_data(as_text=True)


def test_unknown_station_opinion_is_a_friendly_404(resident):
    assert resident().get("/s/nosuch/opinion").status_code == 404
    assert resident().post("/s/nosuch/opinion", data={"content": "路灯坏了很久了"}).status_code == 404


def test_rate_limit_per_resident(resident, journey):
    station = journey["station"]
    flooder = resident()
    flooder.get(f"/s/{station.code}")  # the identity cookie the limit is keyed on
    for n in range(5):
        assert _post(flooder, station, content=f"第{n}条：楼道灯坏了").status_code == 303
    refused = _post(flooder, station, content="第6条：楼道灯坏了")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "操作过于频繁，请稍后再试" in html
    assert refused.headers.get("Retry-After")
    assert len(_opinions(station)) == 5
    # Someone else behind the same address is not held up by the flooder.
    neighbour = resident()
    neighbour.environ_base["REMOTE_ADDR"] = flooder.environ_base["REMOTE_ADDR"]
    neighbour.get(f"/s/{station.code}")
    assert _post(neighbour, station).status_code == 303
    # The limit is on submitting, not on reading.
    assert flooder.get(f"/s/{station.code}/opinion").status_code == 200


def test_rate_limit_per_address(app, resident, journey, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_LIMIT_PER_ADDRESS", "3/hour")
    station = journey["station"]
    first = resident()
    address = first.environ_base["REMOTE_ADDR"]
    codes = []
    for _ in range(4):
        browser = resident()
        browser.environ_base["REMOTE_ADDR"] = address
        browser.get(f"/s/{station.code}")
        codes.append(_post(browser, station).status_code)
    assert codes == [303, 303, 303, 429]
    elsewhere = resident()
    assert _post(elsewhere, station).status_code == 303


def test_a_cookieless_flood_shares_its_address_bucket(resident, journey):
    station = journey["station"]
    browser = resident()
    statuses = []
    for _ in range(6):
        browser.delete_cookie("jzd_resident")
        statuses.append(_post(browser, station).status_code)
    assert statuses == [303] * 5 + [429]

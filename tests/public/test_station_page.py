"""``GET /s/<code>``: the station's 上墙 information, escaped, and a friendly 404."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from app.deputies.service import create_deputy, set_photo
from app.extensions import db
from app.media.service import save_image
from app.stations.service import place_deputy


@pytest.fixture
def station(region_tree, make_station):
    tree = region_tree()
    station = make_station(
        tree["village_a"],
        "station",
        name="清扬社区人大代表联络站",
        address="梁溪区清扬路 100 号",
        phone="0510-82345678",
        opening_hours="周一至周五 8:30-17:00",
        intro="联络站成立于 2019 年。\n每月第三个星期二接待选民。",
        lat="31.564000",
        lng="120.305000",
        area_m2="35",
    )
    return tree, station


def _photo() -> str:
    image = io.BytesIO()
    Image.new("RGB", (90, 120), "#7a8fa6").save(image, "PNG")
    image.seek(0)
    return save_image(image, "deputies")


def test_page_shows_station_and_deputies_in_level_order(client, station):
    tree, s = station
    town = create_deputy(
        region=tree["town_a"],
        data={"name": "周敏", "unit": "清扬社区居委会", "post": "主任", "public_contact": "0510-81234567"},
        mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
    )
    city = create_deputy(
        region=tree["city"],
        data={
            "name": "陈立",
            "unit": "无锡某某公司",
            "post": "总经理",
            "public_contact": "chenli@example.cn",
        },
        mandates=[{"level": "city", "term": "第十七届", "start_year": 2022}],
    )
    for deputy in (town, city):
        place_deputy(s, deputy)
    set_photo(city, _photo())

    response = client.get(f"/s/{s.code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "清扬社区人大代表联络站" in html
    assert "人大代表联络站" in html
    assert "梁溪区清扬路 100 号" in html
    assert 'href="tel:051082345678"' in html
    assert "周一至周五 8:30-17:00" in html
    assert "约 35 m²" in html
    assert "geo:31.564000,120.305000" in html
    assert html.index("陈立") < html.index("周敏")  # 市人大代表 before 镇人大代表
    assert "市人大代表" in html and "镇人大代表" in html
    assert "无锡某某公司 总经理" in html
    assert 'href="tel:051081234567"' in html
    assert "chenli@example.cn" in html and "tel:chenli" not in html
    img = re.search(r'<img class="avatar"[^>]*>', html).group(0)
    assert 'loading="lazy"' in img and 'width="72"' in img and 'height="96"' in img
    assert 'src="/media/deputies/' in img
    assert '<span class="avatar avatar-initial" aria-hidden="true">周</span>' in html
    assert "暂无接待安排" in html
    assert "2 位" in html


def test_content_is_escaped(client, station):
    tree, s = station
    s.intro = "<script>alert('x')</script>欢迎"
    deputy = create_deputy(
        region=tree["town_a"],
        data={"name": "<b>王</b>", "post": '<img src=x onerror="alert(1)">'},
        mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
    )
    place_deputy(s, deputy)
    db.session.flush()
    html = client.get(f"/s/{s.code}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;欢迎" in html
    assert "<b>王</b>" not in html and "&lt;b&gt;王&lt;/b&gt;" in html
    assert "<img src=x" not in html


def test_only_serving_deputies_are_shown(client, station, make_deputy):
    tree, s = station
    make_deputy(tree["town_a"], name="在任代表", station=s)
    gone = make_deputy(tree["town_a"], name="离任代表", station=s)
    gone.active = False
    db.session.flush()
    html = client.get(f"/s/{s.code}").get_data(as_text=True)
    assert "在任代表" in html and "离任代表" not in html


def test_no_external_assets(client, station):
    _, s = station
    html = client.get(f"/s/{s.code}").get_data(as_text=True)
    for target in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert target.startswith(("/", "tel:", "geo:", "#")), target
    # Small files for a cheap phone: the station page needs site.css only, the forms one more.
    for asset, budget in (("site.css", 12_000), ("forms.css", 10_000), ("h5.js", 6_000)):
        response = client.get(f"/static/public/{asset}")
        assert response.status_code == 200
        assert len(response.data) < budget, asset
        assert "url(" not in response.get_data(as_text=True)  # no fonts or images fetched
        response.close()
    assert "forms.css" not in html and "h5.js" not in html


@pytest.mark.parametrize("status", ["closed", "suspended"])
def test_closed_or_suspended_station_is_a_friendly_404(client, station, status):
    _, s = station
    s.status = status
    db.session.flush()
    response = client.get(f"/s/{s.code}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "查看全部家站点" in html and 'href="/"' in html
    assert ("暂停开放" in html) == (status == "suspended")


@pytest.mark.parametrize("code", ["nosuch", "%00", "a%20b", "x" * 40, "%E4%B8%AD"])
def test_unknown_code_is_a_friendly_404(client, code):
    response = client.get(f"/s/{code}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "未找到该家站点" in html
    assert 'href="/"' in html

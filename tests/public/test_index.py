"""``GET /``: the public list of stations, searchable and paged, never an error page."""

from __future__ import annotations

import pytest

from app.extensions import db


@pytest.fixture
def stations(region_tree, make_station):
    tree = region_tree()
    made = [make_station(tree["village_a"], "station", name=f"甲村第{n:02d}联络站") for n in range(1, 24)]
    made.append(make_station(tree["district_b"], "home", name="乙区人大代表之家"))
    made.append(make_station(tree["town_b"], "point", name="乙镇政务服务中心联系点"))
    closed = make_station(tree["village_b"], "station", name="乙村已撤销联络站")
    closed.status = "closed"
    db.session.flush()
    return tree, made


def _html(client, query: str = "") -> str:
    response = client.get("/" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_lists_active_stations_paged(client, stations):
    html = _html(client)
    assert "共 25 个家站点" in html
    assert "第 1/2 页" in html
    assert "已撤销" not in html
    assert html.count('class="card station-link"') == 20
    assert "下一页" in html and "page=2" in html
    second = _html(client, "page=2")
    assert second.count('class="card station-link"') == 5
    assert "上一页" in second


def test_links_to_station_pages(client, stations):
    _, made = stations
    html = _html(client, "q=乙区")
    assert f'href="/s/{made[-2].code}"' in html
    assert "共 1 个家站点" in html


def test_filters_by_region_and_kind(client, stations):
    tree, _ = stations
    assert "共 2 个家站点" in _html(client, f"region={tree['district_b'].code}")
    assert "共 1 个家站点" in _html(client, f"region={tree['district_b'].code}&kind=point")
    assert "共 23 个家站点" in _html(client, "kind=station")
    html = _html(client, f"region={tree['district_a'].code}&kind=station")
    assert f'value="{tree["district_a"].code}" selected' in html
    assert "page=2" in html and f"region={tree['district_a'].code}" in html  # paging keeps the filters


@pytest.mark.parametrize(
    "query", ["page=abc", "page=-3", "page=99999999999", "kind=zzz", "q=%00", "region=%00"]
)
def test_bad_parameters_never_fail(client, stations, query):
    html = _html(client, query)
    assert "家站点" in html


def test_unknown_region_says_so(client, stations):
    html = _html(client, "region=NOSUCH")
    assert "未找到区域代码" in html
    assert "共 0 个家站点" in html


def test_site_icons_are_served_from_the_app(client):
    """Browsers ask for /favicon.ico by themselves; pages point at the SVG icon (no external asset)."""
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    touch = client.get("/apple-touch-icon.png")
    assert touch.status_code == 200 and touch.mimetype == "image/png"
    assert client.get("/favicon.png").status_code == 404
    for page in ("/", "/console/login", "/no-such-page"):
        html = client.get(page).get_data(as_text=True)
        assert 'rel="icon" href="/static/favicon.svg"' in html, page
    assert client.get("/static/favicon.svg").mimetype == "image/svg+xml"

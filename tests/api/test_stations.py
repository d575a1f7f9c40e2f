"""``/api/v1/stations``: shape, paging, filters, only active stations, errors in our shape."""

from __future__ import annotations

import io

import pytest
from openapi_schema_validator import OAS30Validator
from PIL import Image

from app.deputies.service import create_deputy, set_photo
from app.extensions import db
from app.media.service import save_image
from app.stations.service import place_deputy

ITEM_KEYS = {"code", "name", "kind", "kind_label", "address", "phone", "location", "region", "opening_hours"}


@pytest.fixture
def directory(region_tree, make_station, make_deputy):
    """Two districts' stations: active ones of each kind, plus a closed and a suspended one."""
    tree = region_tree()
    s = {
        "home_a": make_station(tree["district_a"], "home", name="A区人大代表之家", lat="31.57", lng="120.30"),
        "town_a": make_station(
            tree["town_a"], "home", name="A镇人大代表之家", opening_hours="工作日 9:00-17:00"
        ),
        "village_a": make_station(tree["village_a"], "station", name="A村人大代表联络站"),
        "point_a": make_station(tree["town_a"], "point", name="A镇政务服务中心人大代表联系点"),
        "village_b": make_station(tree["village_b"], "station", name="B村人大代表联络站"),
        "closed": make_station(tree["village_b"], "station", name="B村旧联络站"),
        "suspended": make_station(tree["town_b"], "home", name="B镇人大代表之家"),
    }
    s["closed"].status = "closed"
    s["suspended"].status = "suspended"
    db.session.flush()
    return tree, s


def _spec_validator(client, schema_name: str) -> OAS30Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    return OAS30Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]})


def test_list_shape_and_only_active(client, directory):
    tree, s = directory
    response = client.get("/api/v1/stations")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "total"}
    codes = {item["code"] for item in body["items"]}
    assert codes == {s[k].code for k in ("home_a", "town_a", "village_a", "point_a", "village_b")}
    assert body["total"] == 5
    for item in body["items"]:
        assert set(item) == ITEM_KEYS
        assert item["kind"] in ("home", "station", "point")
    home = next(i for i in body["items"] if i["code"] == s["home_a"].code)
    assert home["location"] == {"lat": 31.57, "lng": 120.30}
    assert home["kind_label"] == "人大代表之家"
    assert home["region"] == {"code": tree["district_a"].code, "name": tree["district_a"].name}
    village = next(i for i in body["items"] if i["code"] == s["village_a"].code)
    assert village["location"] == {"lat": None, "lng": None}
    town = next(i for i in body["items"] if i["code"] == s["town_a"].code)
    assert town["opening_hours"] == "工作日 9:00-17:00"
    _spec_validator(client, "StationList").validate(body)


def test_order_follows_the_region_tree(client, directory):
    _, s = directory
    codes = [i["code"] for i in client.get("/api/v1/stations").get_json()["items"]]
    # A district's 之家 comes before the stations of its towns and villages.
    assert codes.index(s["home_a"].code) < codes.index(s["town_a"].code) < codes.index(s["village_a"].code)


def test_paging_is_stable_and_complete(client, directory):
    seen = []
    for page in (1, 2, 3):
        body = client.get(f"/api/v1/stations?per_page=2&page={page}").get_json()
        assert body["total"] == 5
        assert len(body["items"]) == (2 if page < 3 else 1)
        seen += [i["code"] for i in body["items"]]
    assert len(set(seen)) == 5
    assert seen == [i["code"] for i in client.get("/api/v1/stations?per_page=100").get_json()["items"]]
    beyond = client.get("/api/v1/stations?per_page=2&page=9").get_json()
    assert beyond == {"items": [], "total": 5}


def test_filters(client, directory):
    tree, s = directory

    def codes(query: str) -> set[str]:
        response = client.get(f"/api/v1/stations?{query}")
        assert response.status_code == 200, response.get_json()
        return {i["code"] for i in response.get_json()["items"]}

    assert codes(f"region={tree['district_a'].code}") == {
        s[k].code for k in ("home_a", "town_a", "village_a", "point_a")
    }
    assert codes(f"region={tree['village_a'].code}") == {s["village_a"].code}
    assert codes(f"region={tree['city'].code}&kind=station") == {s["village_a"].code, s["village_b"].code}
    assert codes("kind=point") == {s["point_a"].code}
    assert codes("q=政务服务") == {s["point_a"].code}
    assert codes("q=%25") == set()  # LIKE wildcards are matched literally
    assert codes(f"region={tree['district_b'].code}&kind=home") == set()  # the only one is suspended


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("kind=village", "kind"),
        ("region=%E4%B8%AD", "region"),
        ("region=NOSUCH", "region"),
        ("q=%00", "q"),
        ("q=" + "长" * 51, "q"),
    ],
)
def test_bad_filters_are_422_in_our_shape(client, directory, query, field):
    response = client.get(f"/api/v1/stations?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "请求参数有误" in error["message"] or "区域" in error["message"]
    assert field in error["fields"]
    assert all("Not a valid" not in m for m in error["fields"][field])
    _spec_validator(client, "Error").validate(response.get_json())


def test_detail_with_deputies_in_level_order(app, client, directory):
    tree, s = directory
    station = s["village_a"]
    town_deputy = create_deputy(
        region=tree["town_a"],
        data={"name": "王镇", "unit": "A镇卫生院", "post": "院长", "public_contact": "13800000001"},
        mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
    )
    double = create_deputy(
        region=tree["city"],
        data={"name": "李市", "unit": "A村股份经济合作社", "post": "社长"},
        mandates=[
            {"level": "district", "term": "第十八届", "start_year": 2022},
            {"level": "city", "term": "第十七届", "start_year": 2022},
        ],
    )
    retired = create_deputy(
        region=tree["town_a"],
        data={"name": "退休"},
        mandates=[{"level": "town", "term": "第十七届", "start_year": 2017}],
    )
    retired.active = False
    for deputy in (town_deputy, double, retired):
        place_deputy(station, deputy)
    image = io.BytesIO()
    Image.new("RGB", (60, 80), "#a33").save(image, "PNG")
    image.seek(0)
    set_photo(double, save_image(image, "deputies"))

    response = client.get(f"/api/v1/stations/{station.code}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ITEM_KEYS | {"intro", "area_m2", "deputies"}
    assert [d["name"] for d in body["deputies"]] == ["李市", "王镇"]
    first, second = body["deputies"]
    assert first["levels"] == ["district", "city"]
    assert "市人大代表" in first["levels_label"]
    assert first["photo_url"].startswith("http://jzd.test/media/deputies/")
    assert client.get(first["photo_url"].removeprefix("http://jzd.test")).status_code == 200
    assert second == {
        "id": town_deputy.id,
        "name": "王镇",
        "photo_url": None,
        "levels": ["town"],
        "levels_label": "镇人大代表",
        "unit": "A镇卫生院",
        "post": "院长",
        "public_contact": "13800000001",
    }
    _spec_validator(client, "StationDetail").validate(body)


@pytest.mark.parametrize("which", ["closed", "suspended", None])
def test_detail_404_shape(client, directory, which):
    _, s = directory
    code = s[which].code if which else "zzzzzz"
    response = client.get(f"/api/v1/stations/{code}")
    assert response.status_code == 404
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert error["message"]


def test_weird_codes_are_404_not_500(client, directory):
    for code in ("%00", "a%20b", "x" * 40, "%E4%B8%AD"):
        response = client.get(f"/api/v1/stations/{code}")
        assert response.status_code == 404, code
        assert response.get_json()["error"]["code"] == "not_found"

from datetime import date

import pytest

from app.errors import Conflict, ValidationFailed
from app.stations.service import (
    get_station_by_code,
    new_station_code,
    place_deputy,
    unplace_deputy,
    update_station,
)


def test_codes_are_short_unambiguous_and_stable_when_seeded():
    code = new_station_code("320213001|崇安寺街道人大代表之家")
    assert code == new_station_code("320213001|崇安寺街道人大代表之家")
    assert len(code) == 6 and not set(code) & set("01ilo")
    assert new_station_code() != new_station_code()


@pytest.mark.parametrize(
    ("level", "kind", "ok"),
    [
        ("city", "home", True),
        ("district", "home", True),
        ("town", "home", True),
        ("village", "home", False),
        ("village", "station", True),
        ("town", "station", False),
        ("district", "point", True),
        ("village", "point", True),
    ],
)
def test_kind_must_fit_region_level(region_tree, make_station, level, kind, ok):
    tree = region_tree()
    region = {"city": tree["city"], "district": tree["district_a"], "town": tree["town_a"]}.get(
        level, tree["village_a"]
    )
    if ok:
        station = make_station(region, kind)
        assert station.level == level
        assert get_station_by_code(station.code) is station
    else:
        with pytest.raises(ValidationFailed, match="只能设在"):
            make_station(region, kind)


def test_required_fields_and_bad_coordinates(region_tree, make_station):
    town = region_tree()["town_a"]
    with pytest.raises(ValidationFailed, match="站点名称"):
        make_station(town, name="  ")
    with pytest.raises(ValidationFailed, match="纬度"):
        make_station(town, lat="91")
    with pytest.raises(ValidationFailed, match="经度"):
        make_station(town, lng="abc")


WORKPLACE = {"at_workplace": True, "approval_authority": "A区人大常委会", "approval_no": "A人发〔2026〕3号"}


def test_workplace_point_needs_approval(region_tree, make_station, make_deputy):
    tree = region_tree()
    host = make_deputy(tree["district_a"], name="王建国")
    with pytest.raises(ValidationFailed, match="批准日期"):
        make_station(
            tree["town_a"], "point", name="红星机械厂代表联系点", host_deputy_id=host.id, **WORKPLACE
        )
    station = make_station(
        tree["town_a"],
        "point",
        name="红星机械厂代表联系点",
        host_deputy_id=host.id,
        approval_date="2026-03-01",
        **WORKPLACE,
    )
    assert station.approval_date == date(2026, 3, 1)
    assert station.host_deputy is host


def test_workplace_point_never_named_after_a_deputy(region_tree, make_station, make_deputy):
    tree = region_tree()
    host = make_deputy(tree["district_a"], name="王建国")
    with pytest.raises(ValidationFailed, match="不得以代表个人名义冠名"):
        make_station(
            tree["town_a"],
            "point",
            name="王建国代表联系点",
            host_deputy_id=host.id,
            approval_date="2026-03-01",
            **WORKPLACE,
        )
    station = make_station(
        tree["town_a"],
        "point",
        name="红星机械厂联系点",
        host_deputy_id=host.id,
        approval_date="2026-03-01",
        **WORKPLACE,
    )
    placed = make_deputy(tree["district_a"], name="李红")
    place_deputy(station, placed)
    data = {
        "name": "李红工作室",
        "address": station.address,
        "host_deputy_id": host.id,
        "approval_date": "2026-03-01",
    }
    with pytest.raises(ValidationFailed, match="李红"):
        update_station(station, {**data, **WORKPLACE})


def test_public_point_may_carry_any_name(region_tree, make_station):
    # Only a point at a deputy's workplace is bound by the naming rule.
    station = make_station(region_tree()["town_a"], "point", name="政务服务中心人大代表联系点")
    assert not station.at_workplace


def test_deputy_on_several_stations(region_tree, make_station, make_deputy):
    tree = region_tree()
    home = make_station(tree["town_a"])
    post = make_station(tree["village_a"])
    deputy = make_deputy(tree["town_a"], station=home)
    place_deputy(post, deputy)
    assert {s.id for s in deputy.stations} == {home.id, post.id}
    with pytest.raises(Conflict, match="已编入"):
        place_deputy(post, deputy)
    unplace_deputy(post, deputy)
    assert [s.id for s in deputy.stations] == [home.id]


def test_staff_may_change_only_public_info(region_tree, make_station):
    station = make_station(region_tree()["village_a"], name="A村人大代表联络站")
    update_station(
        station,
        {"name": "改名", "phone": "0510-1234567", "opening_hours": "周二 9:00-11:30", "address": "新地址"},
        public_info_only=True,
    )
    assert station.name == "A村人大代表联络站"
    assert station.phone == "0510-1234567"
    assert station.opening_hours == "周二 9:00-11:30"

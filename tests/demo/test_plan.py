"""The demo plan on its own: deterministic, complete, inside Wuxi (no database needed)."""

import re
from collections import Counter

from app.demo import wuxi
from app.demo.plan import DEMO_TOWN, build_plan
from app.stations.service import new_station_code


def test_plan_is_deterministic():
    first, second = build_plan(), build_plan()
    assert [d.key for d in first.deputies] == [d.key for d in second.deputies]
    assert [(s.seed, s.data) for s in first.stations] == [(s.seed, s.data) for s in second.stations]
    assert [new_station_code(s.seed) for s in first.stations] == [
        new_station_code(s.seed) for s in second.stations
    ]


def test_region_codes_follow_the_tree():
    plan = build_plan()
    by_code = {r.code: r for r in plan.regions}
    assert len(by_code) == len(plan.regions)
    districts = [r for r in plan.regions if r.parent == wuxi.CITY_CODE]
    assert {(r.code, r.name) for r in districts} == {
        ("320213", "梁溪区"),
        ("320205", "锡山区"),
        ("320206", "惠山区"),
        ("320211", "滨湖区"),
        ("320214", "新吴区"),
        ("320281", "江阴市"),
        ("320282", "宜兴市"),
    }
    for region in plan.regions:
        if region.parent and region.parent != wuxi.CITY_CODE:
            assert re.fullmatch(re.escape(region.parent) + r"\d{3}", region.code), region
    towns = [r for r in plan.regions if len(r.code) == 9]
    assert len(towns) >= 40
    assert all(r.name.endswith(("镇", "街道", "园区")) for r in towns)
    villages = Counter(r.parent for r in plan.regions if len(r.code) == 12)
    assert all(2 <= villages[t.code] <= 4 for t in towns)


def test_every_deputy_is_placed_and_names_are_unique():
    plan = build_plan()
    assert len(plan.deputies) >= 400
    assert all(d.stations for d in plan.deputies)
    assert len({d.name for d in plan.deputies}) == len(plan.deputies)
    seeds = {s.seed for s in plan.stations}
    assert all(seed in seeds for d in plan.deputies for seed in d.stations)
    levels = Counter(m["level"] for d in plan.deputies for m in d.mandates)
    assert set(levels) == {"national", "provincial", "city", "district", "town"}
    # Most deputies sit at the grassroots.
    assert levels["town"] + levels["district"] > 0.8 * len(plan.deputies)


def test_stations_carry_their_public_information():
    plan = build_plan()
    assert len(plan.stations) >= 120
    for station in plan.stations:
        data = station.data
        assert wuxi.LAT_BOUNDS[0] <= float(data["lat"]) <= wuxi.LAT_BOUNDS[1]
        assert wuxi.LNG_BOUNDS[0] <= float(data["lng"]) <= wuxi.LNG_BOUNDS[1]
        assert re.fullmatch(r"0510-8\d{7}", data["phone"])
        assert data["address"] and data["intro"] and data["opening_hours"]
        expected = {"home": "人大代表之家", "station": "人大代表联络站", "point": "人大代表联系点"}[
            station.kind
        ]
        assert data["name"].endswith(expected)


def test_demo_station_is_a_liaison_station_in_the_demo_town():
    plan = build_plan()
    station = next(s for s in plan.stations if s.seed == plan.demo_station)
    assert station.kind == "station"
    assert station.region.startswith(DEMO_TOWN)

import pytest

from app.errors import Conflict, ValidationFailed
from app.regions.service import create_region, delete_region, get_region_by_code, rename_region, subtree


def test_tree_levels_and_paths(region_tree):
    tree = region_tree()
    village = tree["village_a"]
    assert [r.level for r in (tree["city"], tree["district_a"], tree["town_a"], village)] == [
        "city",
        "district",
        "town",
        "village",
    ]
    assert (
        village.path
        == f"/{tree['city'].code}/{tree['district_a'].code}/{tree['town_a'].code}/{village.code}/"
    )
    assert village.is_within(tree["district_a"]) and not village.is_within(tree["district_b"])
    assert [r.id for r in subtree(tree["district_a"])] == [
        tree[k].id for k in ("district_a", "town_a", "village_a")
    ]
    assert get_region_by_code(village.code) is village


def test_no_level_below_village(region_tree):
    with pytest.raises(ValidationFailed, match="不能再设下级"):
        create_region(code="X1", name="小组", parent=region_tree()["village_a"])


def test_codes_unique_and_well_formed(region_tree):
    tree = region_tree()
    with pytest.raises(Conflict, match="已存在"):
        create_region(code=tree["town_a"].code, name="重复", parent=tree["district_b"])
    with pytest.raises(ValidationFailed, match="字母和数字"):
        create_region(code="a b%", name="坏代码", parent=tree["district_b"])


def test_delete_only_empty(region_tree, make_station):
    tree = region_tree()
    with pytest.raises(Conflict, match="下级区域"):
        delete_region(tree["town_a"])
    make_station(tree["village_a"])
    with pytest.raises(Conflict, match="家站点"):
        delete_region(tree["village_a"])
    delete_region(tree["village_b"])
    rename_region(tree["town_b"], "新名字")
    assert tree["town_b"].name == "新名字"

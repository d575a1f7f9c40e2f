import pytest

from app.deputies.service import create_deputy, update_deputy
from app.errors import ValidationFailed

MANDATE = {"level": "city", "term": "第十七届", "start_year": "2022", "end_year": "2027"}


def test_deputy_with_several_mandates(region_tree):
    district = region_tree()["district_a"]
    deputy = create_deputy(
        region=district,
        data={"name": "陈立新", "unit": "A区实验小学", "post": "校长", "is_leader": ""},
        mandates=[MANDATE, {"level": "district", "term": "第十八届", "start_year": "2021"}, {"level": ""}],
    )
    assert deputy.levels == ["city", "district"]
    assert deputy.levels_label == "市人大代表、市(县)区人大代表"
    assert deputy.unit_and_post == "A区实验小学 校长"
    assert not deputy.is_leader


@pytest.mark.parametrize(
    ("mandates", "message"),
    [
        ([], "至少填写一项"),
        ([{**MANDATE, "level": "mayor"}], "层级无效"),
        ([{**MANDATE, "end_year": "2020"}], "不能早于"),
        ([{**MANDATE, "start_year": "abc"}], "整数"),
        ([MANDATE, MANDATE], "重复"),
    ],
)
def test_bad_mandates(region_tree, mandates, message):
    with pytest.raises(ValidationFailed, match=message):
        create_deputy(region=region_tree()["district_a"], data={"name": "张三"}, mandates=mandates)


def test_gender_and_name_checked(region_tree):
    district = region_tree()["district_a"]
    with pytest.raises(ValidationFailed, match="姓名"):
        create_deputy(region=district, data={"name": ""}, mandates=[MANDATE])
    with pytest.raises(ValidationFailed, match="性别"):
        create_deputy(region=district, data={"name": "张三", "gender": "x"}, mandates=[MANDATE])


def test_renaming_a_deputy_checks_workplace_points(region_tree, make_station):
    tree = region_tree()
    deputy = create_deputy(region=tree["district_a"], data={"name": "王建国"}, mandates=[MANDATE])
    make_station(
        tree["town_a"],
        "point",
        name="红星机械厂联系点",
        at_workplace=True,
        approval_authority="A区人大常委会",
        approval_no="1号",
        approval_date="2026-01-05",
        host_deputy_id=deputy.id,
    )
    with pytest.raises(ValidationFailed, match="红星"):
        update_deputy(deputy, {"name": "红星"})

"""星级评定 workflow: station self-assessment → district recommends → city decides; who may do what."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import Role
from app.errors import Conflict, Forbidden, ValidationFailed
from app.rating.items import ITEMS
from app.rating.service import NotRated, advance, enter_scores, score_sheet, sheet_for
from tests.rating.year import AUTO_TOTAL, TODAY, YEAR

MANUAL = [i for i in ITEMS if not i.auto and i.group != "bonus"]
BONUS = [i for i in ITEMS if i.group == "bonus"]


@pytest.fixture
def people(year, make_user, make_region):
    village = year.station.region
    town, district, city = village.parent, village.parent.parent, village.parent.parent.parent
    other_district = make_region(city, "别的区")
    return {
        "station": make_user(Role.STATION_STAFF, year.station),
        "town": make_user(Role.TOWN_ADMIN, town),
        "district": make_user(Role.DISTRICT_ADMIN, district),
        "city": make_user(Role.CITY_ADMIN, city),
        "other_district": make_user(Role.DISTRICT_ADMIN, other_district),
    }


def fill(sheet, user, total_manual: Decimal) -> None:
    """Enter manual scores adding up to ``total_manual`` (full marks until it is used up)."""
    left = total_manual
    values = {}
    for item in MANUAL:
        score = min(Decimal(str(item.max)), left)
        left -= score
        values[item.key] = (str(score), "现场查看")
    enter_scores(sheet, user, values)


@pytest.mark.parametrize(
    ("manual", "bonus", "total", "level"),
    [
        ("55.5", "0", "79.5", "none"),
        ("56", "0", "80.0", "qualified"),
        ("60.9", "0", "84.9", "qualified"),
        ("61", "0", "85.0", "3star"),
        ("59.5", "6.5", "90.0", "4star"),
        ("67", "4", "95.0", "5star"),
        ("67", "10", "101.0", "5star"),  # every bonus item at its maximum: the 10 cap
    ],
)
def test_levels_of_whole_sheets(year, people, manual, bonus, total, level):
    sheet = sheet_for(year.station, YEAR)
    fill(sheet, people["station"], Decimal(manual))
    left = Decimal(bonus)
    values = {}
    for item in BONUS:
        score = min(Decimal(str(item.max)), left)
        left -= score
        values[item.key] = (str(score), "")
    enter_scores(sheet, people["station"], values)
    view = score_sheet(year.station, YEAR, TODAY)
    assert view.base == AUTO_TOTAL + Decimal(manual)
    assert view.total == Decimal(total)
    assert view.level == level


def test_the_whole_way(year, people):
    sheet = sheet_for(year.station, YEAR)
    fill(sheet, people["station"], Decimal("67"))  # 24 + 67 = 91
    enter_scores(sheet, people["station"], {"bonus_media": ("2", "省级媒体报道")})
    step = advance(sheet, people["station"], "submit", note="自评完成")
    assert (sheet.state, step.level, step.total) == ("submitted", "4star", Decimal("93.0"))
    # The district cannot recommend above the score, and can recommend lower.
    with pytest.raises(ValidationFailed, match="不能推荐为五星级"):
        advance(sheet, people["district"], "recommend", level="5star")
    advance(sheet, people["district"], "recommend", level="4star", note="推荐四星")
    assert sheet.state == "recommended" and sheet.recommended_level == "4star"
    with pytest.raises(ValidationFailed):
        advance(sheet, people["city"], "decide", level="5star")
    advance(sheet, people["city"], "decide", level="3star", note="经评定为三星")
    assert sheet.state == "decided" and sheet.decided_level == "3star"
    assert [(s.action, s.user_id) for s in sheet.steps] == [
        ("submit", people["station"].id),
        ("recommend", people["district"].id),
        ("decide", people["city"].id),
    ]
    assert all(s.at is not None for s in sheet.steps)
    # Decided: nobody edits it any more.
    for who in ("station", "district", "city"):
        with pytest.raises(Forbidden, match="已由市人大评定"):
            enter_scores(sheet, people[who], {"site_location": ("1", "")})


def test_steps_out_of_turn_are_refused_with_a_reason(year, people):
    sheet = sheet_for(year.station, YEAR)
    with pytest.raises(ValidationFailed, match="未评分"):
        advance(sheet, people["station"], "submit")
    fill(sheet, people["station"], Decimal("60"))
    for who, action in (("district", "recommend"), ("city", "decide"), ("district", "submit")):
        with pytest.raises(Forbidden, match="应由家站点工作人员或镇人大"):
            advance(sheet, people[who], action, level="qualified")
    advance(sheet, people["town"], "submit")  # the town may submit for its station
    with pytest.raises(Forbidden, match="应由市\\(县\\)区人大"):
        advance(sheet, people["station"], "submit")
    with pytest.raises(Forbidden, match="应由市\\(县\\)区人大"):
        enter_scores(sheet, people["station"], {"site_location": ("1", "")})
    with pytest.raises(Forbidden):
        advance(sheet, people["other_district"], "recommend", level="qualified")
    with pytest.raises(ValidationFailed, match="理由"):
        advance(sheet, people["district"], "return")
    advance(sheet, people["district"], "return", note="请补充材料")
    assert sheet.state == "draft"


def test_manual_scores_are_checked(year, people):
    sheet = sheet_for(year.station, YEAR)
    with pytest.raises(ValidationFailed, match="自动计分"):
        enter_scores(sheet, people["station"], {"service_days": ("4", "")})
    with pytest.raises(ValidationFailed, match="0 到 3 分"):
        enter_scores(sheet, people["station"], {"site_location": ("3.5", "")})
    with pytest.raises(ValidationFailed, match="数字"):
        enter_scores(sheet, people["station"], {"site_location": ("三", "")})
    enter_scores(sheet, people["station"], {"site_location": ("2.5", "交通较方便")})
    entry = next(i for i in score_sheet(year.station, YEAR, TODAY).items if i.item.key == "site_location")
    assert (entry.score, entry.note, entry.entered_by) == (Decimal("2.5"), "交通较方便", "测试用户")


def test_district_homes_are_not_rated(make_region, make_station):
    district = make_region(make_region(None, "某市"), "某区")
    home = make_station(district, kind="home", name="某区人大代表之家")
    assert home.level == "district"
    with pytest.raises(NotRated) as caught:
        score_sheet(home, YEAR)
    assert isinstance(caught.value, Conflict) and caught.value.code == "not_rated"

"""The auto-scored 附件3 items of a constructed year, against answers worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.rating.auto import auto_scores, floor_half
from app.rating.items import GROUPS, ITEMS
from app.rating.service import capped_bonus, level_of, score_sheet
from tests.rating.year import AUTO_TOTAL, EXPECTED, TODAY, YEAR


def test_items_add_up_to_the_seed_table():
    by_group = {g.key: sum(i.max for i in ITEMS if i.group == g.key) for g in GROUPS}
    assert by_group == {"facilities": 30, "rules": 20, "contact": 25, "effect": 25, "bonus": 10}
    auto = {i.key: i.max for i in ITEMS if i.auto}
    assert auto == {
        "service_days": 4,
        "every_deputy": 3,
        "feedback_rate": 6,
        "study_sessions": 2,
        "plan_announce": 3,
        "registration": 3,
        "dispatch": 3,
        "fixed_contacts_twice": 3,
        "monitoring": 3,
        "leaders": 3,
    }


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_auto_item(year, key):
    scores = auto_scores(year.station, YEAR, TODAY)
    assert scores[key].score == EXPECTED[key], scores[key].evidence
    assert scores[key].evidence


def test_evidence_names_who_is_behind(year):
    scores = auto_scores(year.station, YEAR, TODAY)
    assert "丁代表" in scores["every_deputy"].evidence
    assert "9月、10月、11月、12月" in scores["service_days"].evidence
    assert "9月、10月已公告服务日，台账尚未登记" in scores["service_days"].evidence
    assert "95.0%" in scores["feedback_rate"].evidence
    assert "乙代表" in scores["fixed_contacts_twice"].evidence


def test_sheet_sums_auto_items_and_leaves_manual_ones_unscored(year):
    sheet = score_sheet(year.station, YEAR, TODAY)
    assert sheet.total == AUTO_TOTAL == Decimal("24.0")
    assert sheet.level == "none"
    manual = [i for i in sheet.items if not i.auto]
    assert manual and all(i.score is None for i in manual)


def test_an_empty_station_scores_nothing_it_cannot_show(make_region, make_station):
    station = make_station(make_region(make_region(make_region(None, "空市"), "空区"), "空镇"))
    scores = auto_scores(station, YEAR, TODAY)
    assert scores["every_deputy"].score == 0
    assert scores["leaders"].score == 0
    assert scores["service_days"].score == 0
    # Nothing to answer and nothing to dispatch: no fault.
    assert scores["feedback_rate"].score == 6
    assert scores["dispatch"].score == 3


@pytest.mark.parametrize(
    ("total", "level"),
    [
        ("0", "none"),
        ("79.5", "none"),
        ("79.9", "none"),
        ("80", "qualified"),
        ("84.9", "qualified"),
        ("85", "3star"),
        ("89.9", "3star"),
        ("90", "4star"),
        ("94.9", "4star"),
        ("95", "5star"),
        ("110", "5star"),
    ],
)
def test_level_boundaries(total, level):
    assert level_of(Decimal(total)) == level


def test_bonus_is_capped_at_ten():
    assert capped_bonus(Decimal("7.5")) == Decimal("7.5")
    assert capped_bonus(Decimal("10")) == Decimal("10")
    assert capped_bonus(Decimal("12")) == Decimal("10")


def test_partial_credit_rounds_down_to_half_points():
    assert floor_half(Decimal("3.333")) == Decimal("3.0")
    assert floor_half(Decimal("2.25")) == Decimal("2.0")
    assert floor_half(Decimal("2.7")) == Decimal("2.5")
    assert floor_half(Decimal("1.5")) == Decimal("1.5")


def test_a_month_is_due_once_its_moved_service_day_has_come(make_region, make_station):
    """2026's February service day moved from 春节 (2月17日) to 2月24日: on the 20th only January is due."""
    from datetime import date

    station = make_station(make_region(make_region(make_region(None, "春市"), "春区"), "春镇"))
    assert "应开展 1 个月" in auto_scores(station, 2026, date(2026, 2, 20))["service_days"].evidence
    assert "应开展 2 个月" in auto_scores(station, 2026, date(2026, 2, 24))["service_days"].evidence

from datetime import date, time

import pytest

from app.errors import ValidationFailed
from app.extensions import db
from app.receptions.models import ReceptionStatus
from app.receptions.service import (
    ServiceDayDefaults,
    confirm_schedule,
    generate_service_days,
    service_day_for,
)

DEFAULTS = ServiceDayDefaults(start=time(9), end=time(11, 30), slot_minutes=30, slot_capacity=5, deputies=2)


@pytest.fixture
def station_with_deputies(region_tree, make_station, make_deputy):
    def make(count: int):
        tree = region_tree()
        station = make_station(tree["village_a"])
        deputies = [make_deputy(tree["town_a"], station=station) for _ in range(count)]
        return station, deputies

    return make


def _only(report, station):
    (reception,) = [r for r in report.created if r.station_id == station.id]
    return reception


def test_generates_third_tuesday_announced_with_slots(station_with_deputies):
    station, deputies = station_with_deputies(3)
    report = generate_service_days("2027-01", DEFAULTS)
    reception = _only(report, station)
    assert reception.date == date(2027, 1, 19)
    assert (reception.start, reception.end, reception.slot_capacity) == (time(9), time(11, 30), 5)
    assert reception.status == ReceptionStatus.ANNOUNCED and reception.announced_at is not None
    assert len(reception.deputies) == 2  # SERVICE_DAY_DEPUTIES, with eleven more days to go
    assert set(reception.deputies) <= set(deputies)


def test_december_catches_up_everyone_not_yet_on_duty(station_with_deputies):
    station, deputies = station_with_deputies(3)
    reception = _only(generate_service_days("2026-12", DEFAULTS), station)
    assert reception.date == date(2026, 12, 15)
    assert set(reception.deputies) == set(deputies)  # the year's last chance for all three


def test_generation_is_idempotent(station_with_deputies):
    station, _ = station_with_deputies(2)
    first = generate_service_days("2026-12", DEFAULTS)
    second = generate_service_days("2026-12", DEFAULTS)
    assert station.id in {r.station_id for r in first.created}
    assert station.id not in {r.station_id for r in second.created}
    assert second.existing >= 1


def test_spring_festival_moves_and_waits_for_confirmation(station_with_deputies):
    station, _ = station_with_deputies(2)
    assert service_day_for(2026, 2)[0] == date(2026, 2, 24)
    reception = _only(generate_service_days("2026-02", DEFAULTS), station)
    assert reception.date == date(2026, 2, 24)
    assert reception.needs_confirmation and reception.status == ReceptionStatus.DRAFT
    assert "春节" in reception.schedule_note
    with pytest.raises(ValidationFailed, match="不是工作日"):
        confirm_schedule(reception, date(2026, 2, 21))
    confirm_schedule(reception, date(2026, 2, 25))
    assert reception.status == ReceptionStatus.ANNOUNCED and reception.date == date(2026, 2, 25)


def test_rotation_reaches_every_deputy_within_the_year(station_with_deputies):
    # 30 deputies at one station, generation starting in July: six service days left must
    # still put every one of them on duty before the year ends.
    station, deputies = station_with_deputies(30)
    served = set()
    for month in range(7, 13):
        reception = _only(generate_service_days(f"2026-{month:02d}", DEFAULTS), station)
        served.update(d.id for d in reception.deputies)
        db.session.flush()
    assert served == {d.id for d in deputies}


def test_rotation_spreads_duties_evenly(station_with_deputies):
    station, deputies = station_with_deputies(4)
    counts = {d.id: 0 for d in deputies}
    for month in range(1, 13):
        report = generate_service_days(f"2026-{month:02d}", DEFAULTS)
        for deputy in _only(report, station).deputies:
            counts[deputy.id] += 1
    assert set(counts.values()) == {6}  # 12 days x 2 on duty / 4 deputies


def test_station_without_deputies_is_reported(region_tree, make_station):
    station = make_station(region_tree()["village_a"])
    report = generate_service_days("2026-12", DEFAULTS)
    assert station in report.without_deputies


@pytest.mark.parametrize("month", ["2026-13", "2026", "abc", "1999-01"])
def test_bad_month(month):
    with pytest.raises(ValidationFailed):
        generate_service_days(month, DEFAULTS)


def test_cli_generate(runner, station_with_deputies):
    station_with_deputies(2)
    result = runner.invoke(args=["receptions", "generate", "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    assert "新建" in result.output and "春节" in result.output
    bad = runner.invoke(args=["receptions", "generate", "--month", "2026-2x"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output

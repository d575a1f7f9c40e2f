from datetime import date, datetime, time

from app.extensions import db
from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
from app.receptions.service import duty_at, third_tuesday


def test_third_tuesday():
    assert third_tuesday(2026, 2) == date(2026, 2, 17)  # 春节: the generator must move it
    assert third_tuesday(2026, 12) == date(2026, 12, 15)
    assert third_tuesday(2026, 9) == date(2026, 9, 15)  # month starting on a Tuesday
    assert third_tuesday(2027, 6) == date(2027, 6, 15)


def _reception(station, day, start, end, status=ReceptionStatus.ANNOUNCED, deputies=()):
    reception = Reception(station=station, date=day, start=start, end=end, kind="topic", status=status)
    reception.duties = [ReceptionDuty(deputy=d) for d in deputies]
    db.session.add(reception)
    db.session.flush()
    return reception


def test_duty_now_and_next(region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"])
    deputy = make_deputy(tree["town_a"], station=station)
    current = _reception(station, date(2026, 12, 15), time(9), time(11), deputies=[deputy])
    later = _reception(station, date(2026, 12, 15), time(14), time(16))
    _reception(station, date(2026, 12, 16), time(9), time(11), status=ReceptionStatus.DRAFT)
    next_month = _reception(station, date(2027, 1, 19), time(9), time(11))

    duty = duty_at(station, datetime(2026, 12, 15, 10, 0))
    assert duty.now is current
    assert duty.now.deputies == [deputy]
    assert duty.next == [later, next_month]  # drafts are not shown to residents

    after = duty_at(station, datetime(2026, 12, 15, 11, 0))
    assert after.now is None  # the end time is exclusive

"""The scheduler's sweeps: idempotent, so a double run sends nothing twice; one lock holder."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.scheduler import SchedulerLock, reminder_moments, run_all
from app.receptions.service import create_reception
from app.timeutil import local_now
from tests.notify.conftest import sends


def _world(region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"])
    bound = make_deputy(tree["village_a"], name="张代表", station=station)
    bound.openid = "oDeputyBound0000000000000001"
    unbound = make_deputy(tree["village_a"], name="李代表", station=station)
    day = local_now().date() + timedelta(days=10)
    reception = create_reception(
        station,
        {"kind": "topic", "date": day.isoformat(), "start": "09:00", "end": "11:00", "topic": "专题接待"},
        deputy_ids=[bound.id, unbound.id],
        announce=True,
    )
    db.session.commit()
    return reception, bound, unbound


def test_reminder_moments_follow_the_configured_leads(app):
    class R:
        date = datetime(2026, 12, 15).date()
        start = time(9, 0)

    moments = reminder_moments(R, app.config)
    assert moments == {
        "3d": datetime(2026, 12, 12, 9, 0),
        "eve": datetime(2026, 12, 14, 19, 0),
        "morning": datetime(2026, 12, 15, 7, 30),
    }


def test_once_twice_reminds_each_deputy_once_and_lists_the_unbound(
    app, mock_api, region_tree, make_station, make_deputy
):
    reception, bound, _unbound = _world(region_tree, make_station, make_deputy)
    evening = datetime.combine(reception.date - timedelta(days=1), time(20, 0))
    first = run_all(evening)
    second = run_all(evening)
    key = f"reminder:{reception.id}:{bound.id}:eve"
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"reminder:{reception.id}:%"))
    )
    assert [row.dedup_key for row in rows] == [key]
    reminders = {r.name: r for r in first}["代表接待提醒"]
    assert reminders.counts["未绑定微信的代表"] >= 1 and "李代表" in reminders.line()
    assert {r.name: r for r in second}["代表接待提醒"].queued == 0
    mine = [s for s in sends(mock_api) if s["json"]["touser"] == bound.openid]
    ours = [s for s in mine if s["json"]["data"]["time3"]["value"].startswith(f"{reception.date:%Y-%m-%d}")]
    assert len(ours) == 1
    assert "明天" in ours[0]["json"]["data"]["thing2"]["value"]
    # Nothing anywhere went out twice.
    seen = [(s["json"]["touser"], str(s["json"]["data"])) for s in sends(mock_api)]
    assert len(seen) == len(set(seen))


def test_after_downtime_only_the_latest_due_lead_is_sent(
    app, mock_api, region_tree, make_station, make_deputy
):
    reception, bound, _ = _world(region_tree, make_station, make_deputy)
    morning = datetime.combine(reception.date, time(8, 0))
    run_all(morning)
    keys = db.session.scalars(
        select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like(f"reminder:{reception.id}:%"))
    ).all()
    assert keys == [f"reminder:{reception.id}:{bound.id}:morning"]


def test_once_generates_service_days_idempotently(app, mock_api, region_tree, make_station, make_deputy):
    from app.receptions.models import Reception

    tree = region_tree()
    station = make_station(tree["village_b"])
    make_deputy(tree["village_b"], station=station)
    db.session.commit()
    now = local_now()
    run_all(now)
    run_all(now)
    count = db.session.scalar(
        select(func.count()).select_from(Reception).where(Reception.station_id == station.id)
    )
    assert count == 2  # this month's and next month's, once each


def test_one_lock_holder_at_a_time(app):
    with app.app_context():
        first, second = SchedulerLock(app), SchedulerLock(app)
        try:
            assert first.hold()
            assert first.hold()  # renewing is holding
            assert not second.hold()
            first.release()
            assert second.hold()
        finally:
            first.release()
            second.release()


def test_staff_sweeps_tell_each_bound_staff_member_once_and_count_the_unbound(
    app, region_tree, make_station, make_unit, make_user
):
    """待确认 service days go to the station's staff, 逾期 opinions to the unit's; twice sends nothing new."""
    from app.notify.scheduler import UNBOUND_STAFF, run_sweep
    from app.opinions.pipeline import perform
    from app.opinions.service import submit_opinion
    from app.receptions.models import Reception
    from app.receptions.service import ServiceDayDefaults, generate_service_days

    tree = region_tree()
    station = make_station(tree["village_a"])
    unit = make_unit(tree["district_a"], name="A区住建局")
    station_bound, station_unbound = make_user("station_staff", station), make_user("station_staff", station)
    unit_bound, unit_unbound = make_user("unit_staff", unit), make_user("unit_staff", unit)
    make_user("unit_staff", unit).active = False  # a former colleague: never told
    station_bound.openid, unit_bound.openid = "oStationStaff000000000000001", "oUnitStaff000000000000000001"

    now = local_now()
    generate_service_days(f"{now:%Y-%m}", ServiceDayDefaults.from_config(app.config))
    moved = db.session.scalars(select(Reception).where(Reception.station_id == station.id)).first()
    moved.date, moved.needs_confirmation = now.date() + timedelta(days=3), True

    opinion = submit_opinion(
        station=station, content="小区门口的路灯坏了两个星期", channel="wechat", resident_id="oR1"
    )
    perform(opinion, "accept", station_bound)
    perform(opinion, "classify", station_bound, {"category": "urban"})
    perform(opinion, "assign", make_user("town_admin", tree["town_a"]), {"unit_code": unit.code})
    db.session.commit()
    after_deadline = datetime.combine(opinion.deadline + timedelta(days=1), time(9, 0))

    days = run_sweep("service_days", now)
    overdue = run_sweep("overdue", after_deadline)
    assert days.counts["待确认"] >= 1 and days.counts[UNBOUND_STAFF] >= 1
    assert overdue.counts["新逾期"] == 1 and overdue.counts[UNBOUND_STAFF] == 1
    moved_rows = select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like("moved:%"))
    keys = set(db.session.scalars(moved_rows))
    assert f"moved:{moved.id}:{station_bound.id}" in keys
    assert not any(key.endswith(f":{station_unbound.id}") for key in keys)
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("overdue:%"))).all()
    assert [(row.openid, row.dedup_key) for row in rows] == [
        (unit_bound.openid, f"overdue:{opinion.id}:{unit_bound.id}:{opinion.deadline}")
    ]
    assert unit_unbound.openid is None

    assert run_sweep("service_days", now).queued == 0
    assert run_sweep("overdue", after_deadline).queued == 0

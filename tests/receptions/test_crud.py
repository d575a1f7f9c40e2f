"""Receptions staff create and run: validation, announcing, seats kept, cancel, confirm, attendance."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.auth.scope import scoped_select
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.opinions.models import Opinion
from app.opinions.service import submit_opinion
from app.receptions.bookings import AlreadyBooked, SlotFull, book_slot, slot_usage
from app.receptions.models import Booking, BookingStatus, Reception, ReceptionStatus
from app.receptions.service import (
    ServiceDayDefaults,
    announce_reception,
    book_for_resident,
    can_run_receptions,
    cancel_reception,
    confirm_moved_day,
    create_reception,
    generate_service_days,
    record_attendance,
    staff_resident_id,
    update_reception,
)
from app.stations.service import update_station
from app.workdays.service import set_day

NOW = datetime(2027, 3, 1, 8, 0)  # a Monday
DAY = "2027-03-10"
DEFAULTS = ServiceDayDefaults(start=time(9), end=time(11, 30), slot_minutes=30, slot_capacity=5, deputies=1)


@pytest.fixture
def site(region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"], name="甲村人大代表联络站")
    deputies = [make_deputy(tree["town_a"], name=n, station=station) for n in ("钱一", "孙二")]
    outsider = make_deputy(tree["town_a"], name="李外")  # kept by the town, placed nowhere
    return {"tree": tree, "station": station, "deputies": deputies, "outsider": outsider}


def form(**changes) -> dict:
    data = {
        "kind": "topic",
        "topic": "老旧小区加装电梯",
        "date": DAY,
        "start": "09:00",
        "end": "11:00",
        "slot_minutes": "30",
        "slot_capacity": "3",
    }
    data.update(changes)
    return data


def make(site, announce=False, deputies=None, **changes) -> Reception:
    ids = [d.id for d in site["deputies"]] if deputies is None else deputies
    return create_reception(site["station"], form(**changes), deputy_ids=ids, announce=announce, now=NOW)


def book(reception, resident, slot=time(9)):
    return book_slot(
        reception=reception,
        slot_start=slot,
        resident_id=resident,
        name="张阿姨",
        mobile="13812345678",
        now=NOW,
    )


# --- create ------------------------------------------------------------------------------------


def test_create_a_draft_and_announce_it(site):
    reception = make(site)
    assert reception.status == ReceptionStatus.DRAFT and reception.announced_at is None
    assert reception.date == date(2027, 3, 10) and (reception.start, reception.end) == (time(9), time(11))
    assert reception.deputies == site["deputies"]
    assert reception.service_month is None
    announce_reception(reception, now=NOW)
    assert reception.status == ReceptionStatus.ANNOUNCED and reception.announced_at is not None
    with pytest.raises(Conflict, match="已公告"):
        announce_reception(reception, now=NOW)


def test_create_and_announce_at_once(site):
    reception = make(site, announce=True)
    assert reception.status == ReceptionStatus.ANNOUNCED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "party"}, "kind", "请选择接待类型"),
        ({"date": ""}, "date", "请填写接待日期"),
        ({"date": "2027-02-30"}, "date", "格式应为 YYYY-MM-DD"),
        ({"date": "2027-02-28"}, "date", "不能早于今天"),
        ({"start": "9点"}, "start", "格式应为 HH:MM"),
        ({"end": "09:00"}, "end", "结束时间应晚于开始时间"),
        ({"end": "08:00"}, "end", "结束时间应晚于开始时间"),
        ({"topic": ""}, "topic", "专题接待请填写接待主题"),
        ({"topic": "长" * 201}, "topic", "不能超过 200"),
        ({"slot_capacity": "201"}, "slot_capacity", "0 到 200"),
        ({"slot_capacity": "-1"}, "slot_capacity", "0 到 200"),
        ({"slot_capacity": "三"}, "slot_capacity", "应为整数"),
        ({"slot_minutes": "5"}, "slot_minutes", "10 到 240"),
        ({"slot_minutes": "241"}, "slot_minutes", "10 到 240"),
        ({"slot_minutes": "150"}, "slot_minutes", "超过了接待时长（120 分钟）"),
    ],
)
def test_create_refuses_bad_input_in_chinese(site, changes, field, message):
    with pytest.raises(ValidationFailed, match=message) as caught:
        make(site, **changes)
    assert caught.value.field == field


def test_today_is_fine_until_the_reception_ends(site):
    assert make(site, date="2027-03-01", start="08:30", end="09:30").date == date(2027, 3, 1)
    with pytest.raises(ValidationFailed, match="结束时间已过"):
        make(site, date="2027-03-01", start="07:00", end="08:00")


def test_no_booking_needs_no_fitting_slot(site):
    reception = make(site, slot_capacity="0", slot_minutes="240")
    assert reception.slot_capacity == 0
    assert make(site, kind="other", topic="").topic == "其他接待"  # the kind names an untitled one


def test_deputies_on_duty_only_from_those_placed_at_the_station(site):
    with pytest.raises(ValidationFailed, match="只能从编入本站的代表中选择") as caught:
        make(site, deputies=[site["deputies"][0].id, site["outsider"].id])
    assert caught.value.field == "deputy_ids"
    with pytest.raises(ValidationFailed, match="只能从编入本站"):
        make(site, deputies=["abc"])
    site["deputies"][1].active = False
    with pytest.raises(ValidationFailed, match="孙二已不在任"):
        make(site)
    assert make(site, deputies=[site["deputies"][0].id, site["deputies"][0].id, ""]).deputies == [
        site["deputies"][0]
    ]


def test_announcing_needs_a_deputy_on_duty(site):
    with pytest.raises(ValidationFailed, match="至少安排一名值班代表"):
        make(site, announce=True, deputies=[])
    draft = make(site, deputies=[])
    with pytest.raises(ValidationFailed, match="至少安排一名值班代表"):
        announce_reception(draft, now=NOW)


def test_a_closed_station_gets_no_receptions(site):
    update_station(site["station"], {"status": "closed", "name": site["station"].name, "address": "某路"})
    with pytest.raises(ValidationFailed, match="未在运行"):
        make(site)


def test_one_service_day_a_station_a_month(site):
    first = make(site, kind="service_day", topic="", date="2027-03-16")
    assert first.service_month == "2027-03" and first.topic == "代表联系服务群众日"
    with pytest.raises(Conflict, match="本站 2027-03 已有代表联系服务群众日（03月16日）"):
        make(site, kind="service_day", date="2027-03-17")
    # The generator sees the month as done: idempotent with hand-made service days too.
    report = generate_service_days("2027-03", DEFAULTS)
    assert site["station"].id not in {r.station_id for r in report.created}
    # A cancelled one gives its month up to a new one.
    cancel_reception(first, "场地维修", now=NOW)
    second = make(site, kind="service_day", date="2027-03-17")
    assert second.service_month == "2027-03" and first.service_month is None


# --- update: never below seats already taken ---------------------------------------------------


def test_update_changes_everything_while_nobody_has_booked(site):
    reception = make(site)
    update_reception(
        reception,
        form(date="2027-03-11", start="14:00", end="16:00", slot_capacity="0", topic="新主题"),
        deputy_ids=[site["deputies"][1].id],
        now=NOW,
    )
    assert (reception.date, reception.start, reception.topic) == (date(2027, 3, 11), time(14), "新主题")
    assert reception.deputies == [site["deputies"][1]]
    assert reception.slot_capacity == 0


def test_capacity_never_drops_below_seats_taken(site):
    reception = make(site, announce=True, slot_capacity="3")
    for resident in ("r1", "r2"):
        book(reception, resident)
    with pytest.raises(Conflict, match="09:00 时段已有 2 人预约，每时段可预约人数不能少于 2") as caught:
        update_reception(reception, form(slot_capacity="1"), deputy_ids=[site["deputies"][0].id], now=NOW)
    assert caught.value.field == "slot_capacity"
    with pytest.raises(Conflict, match="不能关闭预约"):
        update_reception(reception, form(slot_capacity="0"), deputy_ids=[site["deputies"][0].id], now=NOW)
    with pytest.raises(Conflict, match="不能更改日期"):
        update_reception(reception, form(date="2027-03-11"), deputy_ids=[site["deputies"][0].id], now=NOW)
    with pytest.raises(Conflict, match="09:00 时段已有 2 人预约，调整后的时间和时段长度必须保留这个时段"):
        update_reception(reception, form(start="09:10"), deputy_ids=[site["deputies"][0].id], now=NOW)
    # Longer hours and a lower (but sufficient) capacity are fine.
    update_reception(
        reception, form(end="12:00", slot_capacity="2"), deputy_ids=[site["deputies"][0].id], now=NOW
    )
    assert reception.slot_capacity == 2 and reception.end == time(12)


def test_lowering_capacity_renumbers_seats_so_the_slot_cannot_overfill(site):
    reception = make(site, announce=True, slot_capacity="5")
    bookings = [book(reception, f"r{n}") for n in range(5)]
    for booking in bookings[:3]:
        booking.status = BookingStatus.CANCELLED
        booking.seat = booking.active_resident = None
    db.session.flush()
    # Two seats held; booking shuffles seat numbers, so they may sit anywhere in 1..5.
    update_reception(reception, form(slot_capacity="2"), deputy_ids=[site["deputies"][0].id], now=NOW)
    held = db.session.scalars(select(Booking.seat).where(Booking.reception_id == reception.id)).all()
    assert sorted(seat for seat in held if seat is not None) == [1, 2]
    with pytest.raises(SlotFull):
        book(reception, "r-late")
    assert slot_usage(reception)[time(9)] == 2


def test_an_announced_reception_keeps_a_deputy(site):
    reception = make(site, announce=True)
    with pytest.raises(ValidationFailed, match="至少要有一名值班代表"):
        update_reception(reception, form(), deputy_ids=[], now=NOW)


def test_a_cancelled_reception_cannot_change(site):
    reception = make(site)
    cancel_reception(reception, "临时有事", now=NOW)
    with pytest.raises(Conflict, match="已取消的接待活动不能修改"):
        update_reception(reception, form(), deputy_ids=[], now=NOW)
    with pytest.raises(Conflict, match="已取消的接待活动不能公告"):
        announce_reception(reception, now=NOW)


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_needs_a_reason_and_keeps_bookings(site):
    reception = make(site, announce=True)
    booking = book(reception, "r1")
    with pytest.raises(ValidationFailed, match="请填写取消原因"):
        cancel_reception(reception, "  ", now=NOW)
    cancel_reception(reception, "场地临时维修", now=NOW)
    assert reception.status == ReceptionStatus.CANCELLED
    assert "场地临时维修" in reception.schedule_note
    assert booking.status == BookingStatus.BOOKED  # still on record: staff call the resident
    with pytest.raises(Conflict, match="已取消"):
        cancel_reception(reception, "再取消", now=NOW)


def test_an_ended_reception_cannot_be_cancelled(site):
    reception = make(site)
    with pytest.raises(Conflict, match="已结束"):
        cancel_reception(reception, "太晚了", now=datetime(2027, 3, 10, 11, 0))


# --- confirm a service day moved off a holiday -------------------------------------------------


@pytest.fixture
def moved(site):
    set_day(date(2027, 3, 16), is_workday_=False, name="地方假日")
    report = generate_service_days("2027-03", DEFAULTS)
    (reception,) = [r for r in report.created if r.station_id == site["station"].id]
    assert reception.needs_confirmation and reception.date == date(2027, 3, 17)
    return reception


def test_confirm_the_moved_day_as_proposed(moved):
    with pytest.raises(Conflict, match="请先确认日期"):
        announce_reception(moved, now=NOW)
    confirm_moved_day(moved, "", now=NOW)
    assert moved.status == ReceptionStatus.ANNOUNCED and not moved.needs_confirmation
    assert moved.date == date(2027, 3, 17) and moved.schedule_note == ""
    with pytest.raises(Conflict, match="无需确认"):
        confirm_moved_day(moved, "", now=NOW)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2027-03-20", "不是工作日"),  # a Saturday
        ("2027-04-01", "请在当月内选择日期"),
        ("2027-02-26", "日期已过"),
        ("2027/03/18", "格式应为 YYYY-MM-DD"),
    ],
)
def test_confirm_on_another_day_checks_it(moved, raw, message):
    with pytest.raises(ValidationFailed, match=message):
        confirm_moved_day(moved, raw, now=NOW)
    assert moved.needs_confirmation


def test_confirm_on_another_working_day_of_the_month(moved):
    confirm_moved_day(moved, "2027-03-18", now=NOW)
    assert moved.date == date(2027, 3, 18) and moved.status == ReceptionStatus.ANNOUNCED


def test_confirm_refuses_a_past_day_and_a_day_without_deputies(moved):
    with pytest.raises(ValidationFailed, match="日期已过"):
        confirm_moved_day(moved, "", now=datetime(2027, 3, 20, 8, 0))
    moved.duties = []
    db.session.flush()
    with pytest.raises(ValidationFailed, match="还没有值班代表"):
        confirm_moved_day(moved, "", now=NOW)


# --- bookings from the staff side ----------------------------------------------------------------


def test_staff_book_on_a_residents_behalf_within_capacity(site, make_user):
    staff = make_user(Role.STATION_STAFF, site["station"])
    reception = make(site, announce=True, slot_capacity="2")
    booking = book_for_resident(
        reception,
        slot="09:00",
        name="王大爷",
        mobile=" 13912345678 ",
        topic="路灯",
        staff_user_id=staff.id,
        now=NOW,
    )
    assert (booking.channel, booking.resident_id, booking.booked_by_user_id) == (
        "staff",
        staff_resident_id("13912345678"),
        staff.id,
    )
    assert "13912345678" not in booking.resident_id  # a keyed HMAC, never the number itself
    with pytest.raises(AlreadyBooked):
        book_for_resident(
            reception, slot="09:30", name="王大爷", mobile="13912345678", staff_user_id=staff.id, now=NOW
        )
    book_for_resident(
        reception, slot="09:00", name="赵", mobile="13900000001", staff_user_id=staff.id, now=NOW
    )
    with pytest.raises(SlotFull):
        book_for_resident(
            reception, slot="09:00", name="钱", mobile="13900000002", staff_user_id=staff.id, now=NOW
        )
    for bad in ("", "9点", "09:15"):
        with pytest.raises(ValidationFailed):
            book_for_resident(
                reception, slot=bad, name="钱", mobile="13900000002", staff_user_id=staff.id, now=NOW
            )
    with pytest.raises(ValidationFailed, match="手机号"):
        book_for_resident(reception, slot="10:00", name="钱", mobile="12345", staff_user_id=staff.id, now=NOW)


def test_attendance_from_the_day_of_the_reception(site):
    reception = make(site, announce=True)
    booking = book(reception, "r1")
    with pytest.raises(Conflict, match="当天起才能登记"):
        record_attendance(booking, True, now=NOW)
    record_attendance(booking, True, now=datetime(2027, 3, 10, 9, 40))
    assert booking.status == BookingStatus.ATTENDED
    record_attendance(booking, False, now=datetime(2027, 3, 11, 9, 0))
    assert booking.status == BookingStatus.NO_SHOW


# --- who may, and what each one sees -------------------------------------------------------------


def test_scope_of_receptions_bookings_and_opinions(site, make_station, make_user):
    tree = site["tree"]
    other = make_station(tree["village_b"], name="乙村人大代表联络站")
    ours = make(site, announce=True)
    theirs = create_reception(other, form(), now=NOW)
    book(ours, "r1")
    mine = submit_opinion(station=site["station"], content="路灯坏了两周了", channel="staff")
    submit_opinion(station=other, content="垃圾清运不及时", channel="staff")

    town_a = make_user(Role.TOWN_ADMIN, tree["town_a"])
    staff_a = make_user(Role.STATION_STAFF, site["station"])
    staff_b = make_user(Role.STATION_STAFF, other)
    city = make_user(Role.CITY_ADMIN, tree["city"])
    unit_user = make_user(Role.UNIT_STAFF, _unit(tree))

    def seen(model, user):
        return set(db.session.scalars(scoped_select(model, user)))

    assert seen(Reception, town_a) == {ours} and seen(Reception, staff_a) == {ours}
    assert seen(Reception, staff_b) == {theirs} and seen(Reception, city) == {ours, theirs}
    assert seen(Reception, unit_user) == set()
    assert len(seen(Booking, staff_a)) == 1 and seen(Booking, staff_b) == set()
    assert seen(Opinion, staff_a) == {mine} and len(seen(Opinion, city)) == 2
    assert seen(Opinion, unit_user) == set()

    assert can_run_receptions(staff_a, site["station"]) and not can_run_receptions(staff_a, other)
    assert can_run_receptions(town_a, site["station"]) and not can_run_receptions(town_a, other)
    assert not can_run_receptions(unit_user, site["station"])


def _unit(tree):
    from app.units.service import create_unit

    return create_unit(region=tree["town_a"], code="UCRUD1", data={"name": "甲镇住建局"})


def test_generation_can_be_limited_to_a_scope(site, make_station, make_user):
    from app.auth.scope import visible
    from app.stations.models import Station

    other = make_station(site["tree"]["village_b"])
    town_a = make_user(Role.TOWN_ADMIN, site["tree"]["town_a"])
    report = generate_service_days("2027-05", DEFAULTS, within=visible(Station, town_a))
    created = {r.station_id for r in report.created}
    assert site["station"].id in created and other.id not in created

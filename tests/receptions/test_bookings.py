import threading
from datetime import date, datetime, time

import pytest

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.receptions.bookings import (
    AlreadyBooked,
    SlotFull,
    book_slot,
    bookings_of,
    cancel_booking,
    get_booking,
    mark_attendance,
    slot_usage,
    slots_of,
)
from app.receptions.models import Reception, ReceptionStatus

BEFORE = datetime(2026, 12, 1, 8, 0)


def _reception(station, capacity=2, status=ReceptionStatus.ANNOUNCED):
    reception = Reception(
        station=station,
        date=date(2026, 12, 15),
        start=time(9),
        end=time(10, 30),
        kind="service_day",
        slot_minutes=30,
        slot_capacity=capacity,
        status=status,
    )
    db.session.add(reception)
    db.session.flush()
    return reception


@pytest.fixture
def reception(region_tree, make_station):
    return _reception(make_station(region_tree()["village_a"]))


def _book(reception, resident, slot=time(9), **kw):
    fields = {"name": "张阿姨", "mobile": "13812345678", "topic": "加装电梯", "now": BEFORE}
    fields.update(kw)
    return book_slot(reception=reception, slot_start=slot, resident_id=resident, **fields)


def test_slots_follow_start_end_and_length(reception):
    assert slots_of(reception) == [time(9), time(9, 30), time(10)]


def test_capacity_is_never_exceeded(reception):
    a, b = _book(reception, "r1"), _book(reception, "r2")
    assert {a.seat, b.seat} == {1, 2}
    with pytest.raises(SlotFull, match="已约满"):
        _book(reception, "r3")
    assert slot_usage(reception)[time(9)] == 2
    assert _book(reception, "r3", slot=time(9, 30)).seat in (1, 2)


def test_one_active_booking_per_resident_per_reception(reception):
    first = _book(reception, "r1")
    with pytest.raises(AlreadyBooked, match=first.code):
        _book(reception, "r1", slot=time(10))


def test_cancel_frees_the_seat_and_allows_rebooking(reception):
    a = _book(reception, "r1")
    _book(reception, "r2")
    freed = a.seat
    with pytest.raises(Exception, match="未找到"):
        cancel_booking(a, resident_id="someone-else", now=BEFORE)
    cancel_booking(a, resident_id="r1", now=BEFORE)
    assert a.seat is None and a.status_label == "已取消"
    assert _book(reception, "r3").seat == freed
    assert _book(reception, "r1", slot=time(10)).status == "booked"
    with pytest.raises(Conflict, match="不能取消"):
        cancel_booking(a, now=BEFORE)


def test_no_cancel_or_booking_once_the_slot_started(reception):
    booking = _book(reception, "r1")
    late = datetime(2026, 12, 15, 9, 5)
    with pytest.raises(Conflict, match="已开始"):
        cancel_booking(booking, now=late)
    with pytest.raises(ValidationFailed, match="已开始"):
        _book(reception, "r2", now=late)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"mobile": "1381234567"}, "手机号"),
        ({"mobile": "23812345678"}, "手机号"),
        ({"name": " "}, "姓名"),
        ({"slot": time(9, 15)}, "预约时段"),
    ],
)
def test_bad_booking_input(reception, kw, message):
    slot = kw.pop("slot", time(9))
    with pytest.raises(ValidationFailed, match=message):
        _book(reception, "r1", slot=slot, **kw)


def test_draft_reception_takes_no_bookings(region_tree, make_station):
    draft = _reception(make_station(region_tree()["village_a"]), status=ReceptionStatus.DRAFT)
    with pytest.raises(ValidationFailed, match="尚未公告"):
        _book(draft, "r1")


def test_attendance_and_lookup(reception):
    booking = _book(reception, "r1")
    assert get_booking(booking.code.lower()) is booking
    assert bookings_of("r1") == [booking]
    mark_attendance(booking, attended=False)
    assert booking.status_label == "未到场"
    assert slot_usage(reception)[time(9)] == 1  # a no-show still used the seat


@pytest.mark.real_commits
def test_hundred_concurrent_bookings_fill_exactly_five_seats(pg_databases):
    """100 residents book one slot of capacity 5 at the same moment on PostgreSQL."""
    from flask_migrate import upgrade

    from app.regions.service import create_region
    from app.stations.service import create_station
    from tests.conftest import make_test_app

    app = make_test_app(
        pg_databases.create("race"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 0, "pool_timeout": 60},
    )
    with app.app_context():
        upgrade()
        city = create_region(code="C1", name="测试市", parent=None)
        district = create_region(code="D1", name="测试区", parent=city)
        town = create_region(code="T1", name="测试镇", parent=district)
        village = create_region(code="V1", name="测试村", parent=town)
        station = create_station(
            region=village, kind="station", data={"name": "测试联络站", "address": "测试路1号"}
        )
        reception_id = _reception(station, capacity=5).id
        db.session.commit()

    barrier = threading.Barrier(100)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        # Wait for everyone before touching the pool: only then do all 100 compete at once.
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                _book(db.session.get(Reception, reception_id), f"resident-{i}")
                db.session.commit()
                result = "ok"
            except SlotFull as exc:
                db.session.rollback()
                result = "full" if "已约满" in exc.message else "other"
            except Exception as exc:  # any other outcome fails the test below
                db.session.rollback()
                result = f"error: {exc!r}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(set(outcomes)) == ["full", "ok"], outcomes
    assert outcomes.count("ok") == 5 and outcomes.count("full") == 95
    with app.app_context():
        reception = db.session.get(Reception, reception_id)
        assert slot_usage(reception)[time(9)] == 5
        db.engine.dispose()

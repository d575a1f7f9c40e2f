"""接待活动 in the console: list, create, edit, announce, cancel, confirm, generate, and bookings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db
from app.receptions.models import Booking, BookingStatus, Reception, ReceptionStatus
from app.receptions.service import third_tuesday
from app.timeutil import local_now
from app.workdays.service import is_workday, set_day
from tests.auth.world import World
from tests.console.matrix import booking_of, draft_of, moved_of, open_of, past_of


def body(response) -> str:
    return response.get_data(as_text=True)


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def future(days: int) -> str:
    return (local_now().date() + timedelta(days=days)).isoformat()


def reception_form(station, deputy, **changes) -> dict:
    data = {
        "station_id": station.id,
        "kind": "topic",
        "topic": "老旧小区加装电梯专题接待",
        "date": future(7),
        "start": "14:00",
        "end": "16:00",
        "slot_minutes": "30",
        "slot_capacity": "2",
        "deputy_ids": [deputy.id],
    }
    data.update(changes)
    return data


# --- list ---------------------------------------------------------------------------------------


def test_list_filters_and_flags_moved_service_days(world: World, login_as):
    a = world.own
    draft, announced, moved = draft_of(a), open_of(a), moved_of(a)
    draft_of(world.sides["b"])
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    page = body(client.get("/console/receptions/"))
    assert draft.topic in page and announced.topic in page and moved.topic in page
    assert "节假日顺延待确认" in page and "有 1 场代表联系服务群众日" in page
    assert world.sides["b"].station.name not in page

    page = body(client.get("/console/receptions/?pending=1"))
    assert moved.topic in page and draft.topic not in page
    page = body(client.get("/console/receptions/?status=announced"))
    assert announced.topic in page and draft.topic not in page
    page = body(client.get("/console/receptions/?kind=service_day"))
    assert moved.topic in page and announced.topic not in page
    month = f"{announced.date:%Y-%m}"
    assert announced.topic in body(client.get(f"/console/receptions/?month={month}"))
    assert announced.topic not in body(client.get("/console/receptions/?month=2001-01"))
    for junk in (
        "?month=abc&station=x&kind=nope&status=zzz&page=-1",
        f"?station={world.sides['b'].station.id}",
    ):
        response = client.get("/console/receptions/" + junk)
        assert response.status_code == 200 and world.sides["b"].station.name not in body(response)


# --- create -------------------------------------------------------------------------------------


def test_create_chooses_the_station_first_when_there_are_several(world: World, login_as, make_station):
    a = world.own
    home = make_station(a.town, name="A镇人大代表之家")
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    page = body(client.get("/console/receptions/new"))
    assert "下一步" in page and home.name in page and a.station.name in page
    page = body(client.get(f"/console/receptions/new?station={a.station.id}"))
    assert "保存并公告" in page and a.deputy.name in page
    assert a.spare_deputy.name not in page  # not placed here: not offered
    assert client.get(f"/console/receptions/new?station={world.sides['b'].station.id}").status_code == 404


def test_station_staff_create_and_announce(world: World, login_as):
    a = world.own
    client = login_as(world.actors[Role.STATION_STAFF])
    page = body(client.get("/console/receptions/new"))
    assert "保存并公告" in page and a.station.name in page  # their only station, chosen already
    response = client.post(
        "/console/receptions/new", data={**reception_form(a.station, a.deputy), "action": "announce"}
    )
    assert response.status_code == 302
    reception = db.session.scalar(select(Reception).where(Reception.topic == "老旧小区加装电梯专题接待"))
    assert reception.status == ReceptionStatus.ANNOUNCED and reception.deputies == [a.deputy]
    landing = body(client.get(response.headers["Location"]))
    assert "接待活动已公告" in landing and "14:00" in landing and "为群众代约" in landing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end": "13:00"}, "结束时间应晚于开始时间"),
        ({"date": "2001-01-01"}, "接待日期不能早于今天"),
        ({"slot_capacity": "500"}, "每时段可预约人数应在 0 到 200 之间"),
        ({"slot_minutes": "5"}, "每个预约时段的分钟数应在 10 到 240 之间"),
        ({"topic": ""}, "专题接待请填写接待主题"),
    ],
)
def test_create_explains_bad_input_and_keeps_it(world: World, login_as, changes, message):
    a = world.own
    client = login_as(world.actors[Role.STATION_STAFF])
    response = client.post("/console/receptions/new", data=reception_form(a.station, a.deputy, **changes))
    assert response.status_code == 422
    page = body(response)
    assert message in page and 'class="flash flash-error"' in page
    assert f'value="{a.deputy.id}" checked' in page and 'value="14:00"' in page
    assert db.session.scalar(select(Reception).where(Reception.station_id == a.station.id)) is None


def test_deputies_must_be_placed_at_the_station(world: World, login_as):
    a = world.own
    client = login_as(world.actors[Role.TOWN_ADMIN])
    response = client.post("/console/receptions/new", data=reception_form(a.station, a.spare_deputy))
    assert response.status_code == 422 and "值班代表只能从编入本站的代表中选择" in body(response)
    response = client.post(
        "/console/receptions/new",
        data={**reception_form(a.station, a.deputy), "action": "announce", "deputy_ids": []},
    )
    assert response.status_code == 422 and "请至少安排一名值班代表" in body(response)
    foreign = reception_form(world.sides["b"].station, world.sides["b"].deputy)
    assert client.post("/console/receptions/new", data=foreign).status_code == 404
    response = client.post(
        "/console/receptions/new", data={**reception_form(a.station, a.deputy), "station_id": ""}
    )
    assert response.status_code == 422 and "请选择家站点" in body(response)


# --- edit, announce, cancel ---------------------------------------------------------------------


def test_edit_never_drops_below_seats_taken(world: World, login_as):
    a = world.own
    reception = open_of(a)  # capacity 3, one seat of 09:00 taken
    client = login_as(world.actors[Role.STATION_STAFF])
    client.post(
        f"/console/receptions/{reception.id}/bookings",
        data={"slot_start": "09:00", "name": "第二位", "mobile": "13500000002"},
    )
    url = f"/console/receptions/{reception.id}/edit"
    page = body(client.get(url))
    assert f'value="{reception.date.isoformat()}"' in page and 'value="3"' in page
    base = {
        "kind": "topic",
        "topic": reception.topic,
        "date": reception.date.isoformat(),
        "start": "09:00",
        "end": "11:00",
        "slot_minutes": "30",
        "deputy_ids": [a.deputy.id],
    }
    response = client.post(url, data={**base, "slot_capacity": "1"})
    assert response.status_code == 409
    assert "09:00 时段已有 2 人预约，每时段可预约人数不能少于 2" in body(response)
    response = client.post(url, data={**base, "slot_capacity": "3", "start": "09:15"})
    assert response.status_code == 409 and "必须保留这个时段" in body(response)
    response = client.post(url, data={**base, "slot_capacity": "3", "date": future(12)})
    assert response.status_code == 409 and "不能更改日期" in body(response)
    assert fresh(Reception, reception.id).slot_capacity == 3

    assert client.post(url, data={**base, "slot_capacity": "2", "topic": "改过的主题"}).status_code == 302
    changed = fresh(Reception, reception.id)
    assert changed.slot_capacity == 2 and changed.topic == "改过的主题"
    seats = db.session.scalars(select(Booking.seat).where(Booking.reception_id == reception.id)).all()
    assert sorted(seats) == [1, 2]


def test_announce_a_draft(world: World, login_as):
    reception = draft_of(world.own)
    client = login_as(world.actors[Role.STATION_STAFF])
    page = body(client.get(f"/console/receptions/{reception.id}"))
    assert ">公告</button>" in page
    landing = body(client.post(f"/console/receptions/{reception.id}/announce", follow_redirects=True))
    assert "接待活动已公告" in landing
    assert fresh(Reception, reception.id).status == ReceptionStatus.ANNOUNCED
    again = body(client.post(f"/console/receptions/{reception.id}/announce", follow_redirects=True))
    assert "flash-error" in again and "该接待活动已公告" in again


def test_cancel_with_a_reason_keeps_bookings_visible(world: World, login_as):
    reception = open_of(world.own)
    client = login_as(world.actors[Role.TOWN_ADMIN])
    response = client.post(
        f"/console/receptions/{reception.id}/cancel", data={"reason": ""}, follow_redirects=True
    )
    assert "请填写取消原因" in body(response)
    page = body(
        client.post(
            f"/console/receptions/{reception.id}/cancel",
            data={"reason": "场地临时维修"},
            follow_redirects=True,
        )
    )
    assert "接待活动已取消" in page and "场地临时维修" in page
    assert "矩阵群众" in page and "136****0000" in page  # the booking is still listed, masked
    assert "为群众代约" not in page and "取消本场" not in page
    assert fresh(Reception, reception.id).status == ReceptionStatus.CANCELLED
    assert booking_of(reception).status == BookingStatus.BOOKED


# --- 生成服务日 and the confirm flow --------------------------------------------------------------


def _holiday_month() -> tuple[str, date]:
    """A month ahead whose third Tuesday we make a holiday, so the generator moves it."""
    today = local_now().date()
    index = today.year * 12 + today.month - 1 + 3
    year, month = index // 12, index % 12 + 1
    day = third_tuesday(year, month)
    set_day(day, is_workday_=False, name="测试假日")
    return f"{year:04d}-{month:02d}", day


def test_generate_then_confirm_a_moved_service_day(world: World, login_as):
    a, x = world.own, world.sides["x"]
    month, holiday = _holiday_month()
    db.session.commit()
    city = login_as(world.actors[Role.CITY_ADMIN])
    assert "生成下月服务日" in body(city.get("/console/receptions/"))
    page = body(city.post("/console/receptions/generate", data={"month": month}, follow_redirects=True))
    assert f"{month} 代表联系服务群众日：新建 2 场" in page  # the two stations of the city, not 外市
    assert "因节假日顺延，暂未公告" in page and "测试假日" in page and "节假日顺延待确认" in page
    again = body(city.post("/console/receptions/generate", data={"month": month}, follow_redirects=True))
    assert "新建 0 场，已存在 2 场" in again
    assert db.session.scalar(select(Reception).where(Reception.station_id == x.station.id)) is None

    moved = db.session.scalar(
        select(Reception).where(Reception.station_id == a.station.id, Reception.service_month == month)
    )
    assert moved.needs_confirmation and moved.date > holiday and moved.status == ReceptionStatus.DRAFT
    staff = login_as(world.actors[Role.STATION_STAFF])
    page = body(staff.get(f"/console/receptions/{moved.id}"))
    assert "确认日期并公告" in page and "测试假日" in page and ">公告</button>" not in page
    saturday = moved.date + timedelta(days=(5 - moved.date.weekday()) % 7)
    page = body(
        staff.post(
            f"/console/receptions/{moved.id}/confirm",
            data={"date": saturday.isoformat()},
            follow_redirects=True,
        )
    )
    assert "不是工作日" in page and fresh(Reception, moved.id).needs_confirmation
    page = body(
        staff.post(f"/console/receptions/{moved.id}/confirm", data={"date": "bad"}, follow_redirects=True)
    )
    assert "日期格式应为 YYYY-MM-DD" in page
    other = moved.date + timedelta(days=1)
    while not is_workday(other):
        other += timedelta(days=1)
    page = body(
        staff.post(
            f"/console/receptions/{moved.id}/confirm", data={"date": other.isoformat()}, follow_redirects=True
        )
    )
    assert "日期已确认，接待活动已公告" in page
    confirmed = fresh(Reception, moved.id)
    assert confirmed.status == ReceptionStatus.ANNOUNCED and confirmed.date == other
    assert not confirmed.needs_confirmation


def test_only_the_city_generates(world: World, login_as):
    for role in (Role.DISTRICT_ADMIN, Role.TOWN_ADMIN, Role.STATION_STAFF):
        client = login_as(world.actors[role])
        assert "生成本月服务日" not in body(client.get("/console/receptions/"))
        assert client.post("/console/receptions/generate", data={"month": "2031-01"}).status_code == 403
    city = login_as(world.actors[Role.CITY_ADMIN])
    page = body(city.post("/console/receptions/generate", data={"month": "2031-13"}, follow_redirects=True))
    assert "月份格式应为 YYYY-MM" in page


# --- bookings -----------------------------------------------------------------------------------


def test_staff_booking_never_exceeds_capacity(world: World, login_as):
    reception = open_of(world.own)  # capacity 3, one seat of 09:00 taken
    client = login_as(world.actors[Role.STATION_STAFF])
    url = f"/console/receptions/{reception.id}/bookings"
    for n in (1, 2):
        response = client.post(
            url, data={"slot_start": "09:00", "name": f"群众{n}", "mobile": f"1390000000{n}", "topic": "路灯"}
        )
        assert response.status_code == 302
    response = client.post(url, data={"slot_start": "09:00", "name": "群众3", "mobile": "13900000003"})
    assert response.status_code == 409 and "该时段已约满，请为群众选择其他时段" in body(response)
    assert 'value="群众3"' in body(response)  # the form keeps what was typed
    response = client.post(url, data={"slot_start": "09:30", "name": "群众1", "mobile": "13900000001"})
    assert response.status_code == 409 and "该手机号已预约本场（预约码" in body(response)
    response = client.post(url, data={"slot_start": "09:30", "name": "群众4", "mobile": "1234"})
    assert response.status_code == 422 and "请填写正确的 11 位手机号码" in body(response)
    response = client.post(url, data={"slot_start": "", "name": "群众4", "mobile": "13900000004"})
    assert response.status_code == 422 and "请选择预约时段" in body(response)

    page = body(client.get(f"/console/receptions/{reception.id}"))
    assert "3 / 3" in page and "已约满" in page
    assert "139****0001" in page and "13900000001" not in page
    assert "工作人员代约" in page
    staff_bookings = db.session.scalars(select(Booking).where(Booking.channel == "staff")).all()
    assert {b.booked_by_user_id for b in staff_bookings} == {world.actors[Role.STATION_STAFF].id}


def test_mark_attendance_and_cancel_on_a_residents_behalf(world: World, login_as):
    a = world.own
    past, upcoming = past_of(a), open_of(a)
    client = login_as(world.actors[Role.STATION_STAFF])
    booking = booking_of(past)
    page = body(
        client.post(
            f"/console/receptions/{past.id}/bookings/{booking.id}/attendance",
            data={"attended": "1"},
            follow_redirects=True,
        )
    )
    assert "已登记矩阵群众：已到场" in page
    client.post(f"/console/receptions/{past.id}/bookings/{booking.id}/attendance", data={"attended": "0"})
    assert fresh(Booking, booking.id).status == BookingStatus.NO_SHOW

    ahead = booking_of(upcoming)
    page = body(client.get(f"/console/receptions/{upcoming.id}"))
    assert ">到场</button>" not in page  # attendance only from the day itself
    page = body(
        client.post(
            f"/console/receptions/{upcoming.id}/bookings/{ahead.id}/attendance",
            data={"attended": "1"},
            follow_redirects=True,
        )
    )
    assert "接待活动当天起才能登记到场情况" in page
    page = body(
        client.post(f"/console/receptions/{upcoming.id}/bookings/{ahead.id}/cancel", follow_redirects=True)
    )
    assert "已为矩阵群众取消预约" in page
    cancelled = fresh(Booking, ahead.id)
    assert cancelled.status == BookingStatus.CANCELLED and cancelled.seat is None
    # A booking only answers under its own reception.
    assert client.post(f"/console/receptions/{upcoming.id}/bookings/{booking.id}/cancel").status_code == 404


def test_deputies_see_receptions_but_not_residents(world: World, login_as):
    reception = open_of(world.own)
    client = login_as(world.actors[Role.DEPUTY])
    page = body(client.get(f"/console/receptions/{reception.id}"))
    assert reception.topic in page and "1 / 3" in page
    assert "矩阵群众" not in page and "预约群众" not in page and ">修改</a>" not in page
    assert client.get(f"/console/receptions/{reception.id}/edit").status_code == 403


def test_unit_staff_have_no_reception_room(world: World, login_as):
    client = login_as(world.actors[Role.UNIT_STAFF])
    assert ">接待活动</a>" not in body(client.get("/console/"))
    assert client.get("/console/receptions/").status_code == 403


# --- in a real browser --------------------------------------------------------------------------


@pytest.mark.browser
def test_staff_announce_a_reception_and_print_plaques(live_app, live_server, desktop_page):
    from app.auth.service import create_user
    from app.deputies.service import create_deputy
    from app.regions.service import create_region
    from app.stations.service import create_station, place_deputy

    with live_app.app_context():
        city = create_region(code="320200", name="无锡市", parent=None)
        district = create_region(code="320213", name="梁溪区", parent=city)
        town = create_region(code="320213001", name="崇安寺街道", parent=district)
        village = create_region(code="320213001001", name="健康路社区", parent=town)
        station = create_station(
            region=village,
            kind="station",
            data={"name": "健康路社区人大代表联络站", "address": "健康路 1 号"},
        )
        deputy = create_deputy(
            region=town,
            data={"name": "周代表", "unit": "街道办", "post": "主任"},
            mandates=[{"level": "town", "term": "第十八届", "start_year": 2022}],
        )
        place_deputy(station, deputy)
        create_user(
            None,
            {
                "username": "browser_staff",
                "display_name": "站务员小王",
                "role": "station_staff",
                "station_id": str(station.id),
                "password": "browser-pass-1",
            },
        )
        db.session.commit()
        deputy_id = deputy.id

    page = desktop_page
    page.goto(live_server + "/console/receptions/")
    page.fill("#f-username", "browser_staff")
    page.fill("#f-password", "browser-pass-1")
    page.click("button:has-text('登录')")
    page.wait_for_url("**/console/receptions/")
    assert "没有符合条件的接待活动" in page.content()

    page.click("text=新建接待活动")
    page.select_option("#f-kind", "topic")
    page.fill("#f-topic", "加装电梯专题接待")
    page.fill("#f-date", future(5))
    page.fill("#f-start", "14:00")
    page.fill("#f-end", "16:00")
    page.fill("#f-slot_capacity", "4")
    page.check(f"input[name=deputy_ids][value='{deputy_id}']")
    page.click("button:has-text('保存并公告')")
    page.wait_for_selector("text=接待活动已公告")
    assert "周代表" in page.content()

    page.click("#sidenav >> text=接待活动")
    page.wait_for_url("**/console/receptions/")
    row = page.locator("table tbody tr", has_text="加装电梯专题接待")
    assert row.count() == 1 and "已公告" in row.inner_text() and "周代表" in row.inner_text()

    page.click("#sidenav >> text=标识牌")
    page.wait_for_url("**/console/plaques/")
    page.select_option("select[name=dpi]", "72")
    page.click("button:has-text('开始生成')")
    page.wait_for_selector("#plaque-download:not([hidden])", timeout=30_000)
    assert page.locator("#plaque-progress").evaluate("el => el.value") == 100
    assert page.locator("#plaque-percent").inner_text() == "100"
    assert page.locator("#plaque-count").inner_text() == "1 / 1"
    with page.expect_download() as download:
        page.click("#plaque-download")
    assert download.value.suggested_filename.endswith(".zip")
    assert page.js_errors == []

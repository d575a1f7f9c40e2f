"""What each console room does for a user allowed in it: lists, filters, forms and their errors."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.models import Role, StaffUser
from app.deputies.models import Deputy
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Station
from app.workdays.models import CalendarDay
from tests.auth.world import World


def body(response) -> str:
    return response.get_data(as_text=True)


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


# --- 工作台 -------------------------------------------------------------------------------------


def test_dashboard_counts_only_the_scope(world: World, login_as):
    page = body(login_as(world.actors[Role.DISTRICT_ADMIN]).get("/console/"))
    # district a: one station, two deputies, one unit
    assert '<div class="stat-num">1</div>' in page and '<div class="stat-num">2</div>' in page
    page = body(login_as(world.actors[Role.CITY_ADMIN]).get("/console/"))
    assert '<div class="stat-num">4</div>' in page  # deputies of a and b
    page = body(login_as(world.actors[Role.UNIT_STAFF]).get("/console/"))
    assert "承办单位" in page and "/console/stations/" not in page


def test_the_sidebar_follows_the_role(world: World, login_as):
    admin = body(login_as(world.actors[Role.TOWN_ADMIN]).get("/console/"))
    for label in ("区域", "家站点", "代表", "承办单位", "工作人员", "工作日历", "修改密码"):
        assert f">{label}</a>" in admin
    staff = body(login_as(world.actors[Role.STATION_STAFF]).get("/console/"))
    assert ">家站点</a>" in staff and ">区域</a>" not in staff and ">工作人员</a>" not in staff


# --- 区域 -----------------------------------------------------------------------------------------


def test_region_tree_add_rename_delete(world: World, login_as):
    a = world.own
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    page = body(client.get("/console/regions/"))
    assert page.index(a.district.name) < page.index(a.town.name) < page.index(a.village.name)
    assert 'class="indent d2"' in page  # the village, two levels below the district

    response = client.post(
        f"/console/regions/{a.town.id}/children/new", data={"code": "bad code!", "name": "新村"}
    )
    assert response.status_code == 422 and "区域代码只能由字母和数字组成" in body(response)
    assert 'value="新村"' in body(response)
    response = client.post(
        f"/console/regions/{a.town.id}/children/new", data={"code": "T900", "name": "新村"}
    )
    assert response.status_code == 302
    new = db.session.scalar(select(Region).where(Region.code == "T900"))
    assert new.parent_id == a.town.id and new.level == "village"

    assert client.get(f"/console/regions/{a.village.id}/children/new").status_code == 403  # no level below
    assert client.get(f"/console/regions/{a.district.id}/edit").status_code == 403  # own root

    client.post(f"/console/regions/{new.id}/edit", data={"name": "改过的村"})
    assert fresh(Region, new.id).name == "改过的村"

    response = client.post(f"/console/regions/{a.village.id}/delete", follow_redirects=True)
    assert "该区域下还有家站点，不能删除" in body(response)
    assert fresh(Region, a.village.id) is not None
    client.post(f"/console/regions/{new.id}/delete")
    assert fresh(Region, new.id) is None


# --- 家站点 ---------------------------------------------------------------------------------------


def test_station_list_filters_and_search(world: World, login_as, make_station):
    a, b = world.own, world.sides["b"]
    make_station(a.town, name="A镇人大代表之家")
    make_station(b.town, name="B镇人大代表之家")
    db.session.commit()
    client = login_as(world.actors[Role.CITY_ADMIN])
    page = body(client.get("/console/stations/?kind=home"))
    assert "A镇人大代表之家" in page and a.station.name not in page
    page = body(client.get(f"/console/stations/?region={a.district.id}"))
    assert a.station.name in page and "A镇人大代表之家" in page and b.station.name not in page
    page = body(client.get("/console/stations/?q=B镇"))
    assert "B镇人大代表之家" in page and "A镇人大代表之家" not in page
    assert a.station.name not in body(client.get("/console/stations/?status=closed"))
    assert client.get("/console/stations/?page=abc&kind=nonsense&region=x").status_code == 200


def test_station_list_pages(world: World, login_as, make_station, app):
    for n in range(23):
        make_station(world.own.village, name=f"分页站{n:02d}")
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    assert app.config["PER_PAGE"] == 20
    first = body(client.get("/console/stations/"))
    assert first.count("/console/stations/") >= 20 and "共 24 条" in first
    assert 'href="/console/stations/?page=2"' in first
    second = body(client.get("/console/stations/?page=2"))
    assert second.count("分页站") + second.count(world.own.station.name) == 4
    assert "共 24 条" in second
    assert client.get("/console/stations/?page=99").status_code == 200


def test_station_create_errors_keep_the_input(world: World, login_as):
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    form = {"region_id": world.own.town.id, "kind": "station", "name": "错层级联络站", "address": "某路 1 号"}
    response = client.post("/console/stations/new", data=form)
    assert response.status_code == 422
    page = body(response)
    assert "人大代表联络站只能设在村/社区一级" in page
    assert 'value="错层级联络站"' in page and 'value="某路 1 号"' in page
    response = client.post("/console/stations/new", data={**form, "region_id": ""})
    assert response.status_code == 422 and "请选择所属区域" in body(response)


def test_workplace_point_rules_show_in_chinese(world: World, login_as):
    a = world.own
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    form = {
        "region_id": a.town.id,
        "kind": "point",
        "name": f"{a.deputy.name}代表联系点",
        "address": "某公司",
        "at_workplace": "on",
    }
    response = client.post("/console/stations/new", data=form)
    assert response.status_code == 422 and "须经相应层级人大常委会批准" in body(response)
    form.update(
        approval_authority="A区人大常委会",
        approval_no="A人常〔2026〕1号",
        approval_date="2026-03-01",
        host_deputy_id=a.deputy.id,
    )
    response = client.post("/console/stations/new", data=form)
    assert response.status_code == 422 and "不得以代表个人名义冠名" in body(response)
    form["name"] = "某公司人大代表联系点"
    response = client.post("/console/stations/new", data=form)
    assert response.status_code == 302
    station = db.session.scalar(select(Station).where(Station.name == "某公司人大代表联系点"))
    assert station.at_workplace and station.host_deputy_id == a.deputy.id
    # A host deputy outside the scope is not found.
    form.update(name="另一个联系点", host_deputy_id=world.sides["b"].deputy.id)
    assert client.post("/console/stations/new", data=form).status_code == 404


def test_station_staff_edit_only_public_information(world: World, login_as):
    station = world.own.station
    client = login_as(world.actors[Role.STATION_STAFF])
    page = body(client.get(f"/console/stations/{station.id}/edit"))
    assert 'name="phone"' in page and 'name="intro"' in page
    assert 'name="name"' not in page and 'name="status"' not in page
    form = {
        "name": "偷改名称",
        "status": "closed",
        "phone": "0510-66666666",
        "address": "新地址 8 号",
        "intro": "简介",
    }
    assert client.post(f"/console/stations/{station.id}/edit", data=form).status_code == 302
    changed = fresh(Station, station.id)
    assert changed.phone == "0510-66666666" and changed.address == "新地址 8 号"
    assert changed.name == world.own.secrets[4] and changed.status == "active"
    response = client.post(f"/console/stations/{station.id}/edit", data={**form, "phone": "打电话"})
    assert response.status_code == 422 and "联系电话格式不正确" in body(response)


def test_station_detail_place_and_unplace(world: World, login_as):
    a, b = world.own, world.sides["b"]
    client = login_as(world.actors[Role.TOWN_ADMIN])
    page = body(client.get(f"/console/stations/{a.station.id}"))
    assert a.deputy.name in page and a.staff.display_name in page
    assert f'<option value="{a.spare_deputy.id}">' in page  # the picker offers the unplaced deputy
    assert f'<option value="{a.deputy.id}">' not in page
    page = body(client.get(f"/console/stations/{a.station.id}?dq=备用"))
    assert a.spare_deputy.name in page

    client.post(f"/console/stations/{a.station.id}/placements", data={"deputy_id": a.spare_deputy.id})
    assert a.station.id in [s.id for s in fresh(Deputy, a.spare_deputy.id).stations]
    again = client.post(
        f"/console/stations/{a.station.id}/placements",
        data={"deputy_id": a.spare_deputy.id},
        follow_redirects=True,
    )
    assert "已编入" in body(again) and "flash-error" in body(again)
    foreign = client.post(
        f"/console/stations/{a.station.id}/placements", data={"deputy_id": b.spare_deputy.id}
    )
    assert foreign.status_code == 404
    client.post(f"/console/stations/{a.station.id}/placements/{a.spare_deputy.id}/delete")
    assert fresh(Deputy, a.spare_deputy.id).stations == []


def test_user_content_is_escaped(world: World, login_as, make_station):
    make_station(world.own.village, name="<script>alert(1)</script>站")
    db.session.commit()
    page = body(login_as(world.actors[Role.TOWN_ADMIN]).get("/console/stations/"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;站" in page


# --- 代表 -----------------------------------------------------------------------------------------


def test_deputy_with_several_mandates(world: World, login_as):
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    form = {
        "region_id": world.own.district.id,
        "name": "钱多项",
        "unit": "某街道",
        "post": "主任",
        "is_leader": "on",
        "active": "on",
        "m_level": ["district", "town", ""],
        "m_term": ["第十八届", "第十九届", ""],
        "m_start_year": ["2021", "2022", ""],
        "m_end_year": ["2026", "", ""],
        "m_constituency": ["第3选区", "", ""],
    }
    response = client.post("/console/deputies/new", data=form)
    assert response.status_code == 302
    deputy = db.session.scalar(select(Deputy).where(Deputy.name == "钱多项"))
    assert sorted(m.level for m in deputy.mandates) == ["district", "town"] and deputy.is_leader
    page = body(client.get(f"/console/deputies/{deputy.id}"))
    assert "市(县)区人大代表" in page and "第3选区" in page and "领导干部代表" in page

    form.update(name="钱改名", m_end_year=["2019", "", ""])
    response = client.post(f"/console/deputies/{deputy.id}/edit", data=form)
    assert response.status_code == 422 and "任期结束年不能早于起始年" in body(response)
    assert 'value="钱改名"' in body(response) and 'value="2019"' in body(response)
    assert fresh(Deputy, deputy.id).name == "钱多项"
    blank = {key: [""] for key in ("m_level", "m_term", "m_start_year", "m_end_year", "m_constituency")}
    response = client.post("/console/deputies/new", data={**form, **blank})
    assert response.status_code == 422 and "请至少填写一项代表资格" in body(response)


def test_deputy_list_filters(world: World, login_as, make_deputy):
    a = world.own
    make_deputy(a.town, name="领导甲", level="district", is_leader=True)
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    page = body(client.get("/console/deputies/?leader=1"))
    assert "领导甲" in page and a.deputy.name not in page
    page = body(client.get("/console/deputies/?level=district"))
    assert "领导甲" in page and a.deputy.name not in page
    page = body(client.get(f"/console/deputies/?q={a.deputy.name}"))
    assert a.deputy.name in page and "领导甲" not in page


def test_a_deputy_kept_elsewhere_is_shown_but_not_editable(world: World, login_as, make_deputy):
    outsider = make_deputy(world.city, name="城代表", level="city", station=world.own.station)
    db.session.commit()
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    assert client.get(f"/console/deputies/{outsider.id}").status_code == 200
    assert client.get(f"/console/deputies/{outsider.id}/edit").status_code == 403


# --- 承办单位 -------------------------------------------------------------------------------------


def test_units_create_and_duplicate_code(world: World, login_as):
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    form = {
        "region_id": world.own.district.id,
        "code": "ZJJ01",
        "name": "A区住建局",
        "kind": "government",
        "active": "on",
    }
    assert client.post("/console/units/new", data=form).status_code == 302
    response = client.post("/console/units/new", data={**form, "name": "重复"})
    assert response.status_code == 409 and "单位代码 ZJJ01 已存在" in body(response)
    assert 'value="重复"' in body(response)


def test_unit_staff_see_their_unit_only(world: World, login_as):
    client = login_as(world.actors[Role.UNIT_STAFF])
    page = body(client.get("/console/units/"))
    assert world.own.unit.name in page and "添加承办单位" not in page
    assert client.get(f"/console/units/{world.own.unit.id}/edit").status_code == 403


# --- 工作人员 -------------------------------------------------------------------------------------


def test_role_choices_never_above_ones_own(world: World, login_as):
    page = body(login_as(world.actors[Role.DISTRICT_ADMIN]).get("/console/users/new"))
    assert 'value="city_admin"' not in page and 'value="district_admin"' in page
    page = body(login_as(world.actors[Role.TOWN_ADMIN]).get("/console/users/new"))
    assert 'value="district_admin"' not in page and 'value="town_admin"' in page


def test_user_create_messages(world: World, login_as):
    a = world.own
    client = login_as(world.actors[Role.DISTRICT_ADMIN])
    form = {
        "username": "third_one",
        "display_name": "第三人",
        "role": "station_staff",
        "password": "long-enough-1",
    }
    response = client.post("/console/users/new", data={**form, "station_id": a.station.id})
    assert response.status_code == 409 and "每个家站点配备 1-2 名" in body(response)
    assert 'value="third_one"' in body(response) and "long-enough-1" not in body(response)
    response = client.post(
        "/console/users/new", data={**form, "role": "city_admin", "region_id": world.city.id}
    )
    assert response.status_code in (403, 404)
    response = client.post("/console/users/new", data={**form, "role": "station_staff", "station_id": ""})
    assert response.status_code == 422 and "请选择所在家站点" in body(response)


def test_user_edit_reset_password_and_deactivate(world: World, login_as, app):
    staff = world.own.staff
    client = login_as(world.actors[Role.TOWN_ADMIN])
    form = {"display_name": "新名字", "phone": "", "active": "on", "password": "reset-pass-55"}
    assert client.post(f"/console/users/{staff.id}/edit", data=form).status_code == 302
    login_as(staff, "reset-pass-55")
    client.post(f"/console/users/{staff.id}/edit", data={"display_name": "新名字"})
    assert fresh(StaffUser, staff.id).active is False
    refused = app.test_client().post(
        "/console/login", data={"username": staff.username, "password": "reset-pass-55"}
    )
    assert refused.status_code == 200


# --- 工作日历 -------------------------------------------------------------------------------------


def test_calendar_city_edits_others_look(world: World, login_as):
    city = login_as(world.actors[Role.CITY_ADMIN])
    page = body(city.get("/console/calendar/?year=2026"))
    assert "春节" in page and "国庆节" in page and "恢复常规" in page
    response = city.post(
        "/console/calendar/day", data={"day": "2026-11-27", "kind": "holiday", "name": "地方假日"}
    )
    assert response.status_code == 302
    row = db.session.get(CalendarDay, date(2026, 11, 27))
    assert row.is_workday is False and row.source == "staff"
    edit = body(city.get("/console/calendar/day?day=2026-11-27"))
    assert 'value="地方假日"' in edit
    city.post("/console/calendar/day/reset", data={"day": "2026-11-27"})
    assert fresh(CalendarDay, date(2026, 11, 27)) is None
    response = city.post("/console/calendar/day", data={"day": "2026-13-45", "kind": "holiday"})
    assert response.status_code == 422 and "日期格式应为 YYYY-MM-DD" in body(response)

    district = login_as(world.actors[Role.DISTRICT_ADMIN])
    page = body(district.get("/console/calendar/?year=2026"))
    assert "春节" in page and "恢复常规" not in page
    assert (
        district.post("/console/calendar/day", data={"day": "2026-11-27", "kind": "holiday"}).status_code
        == 403
    )
    assert district.get("/console/calendar/?year=nonsense").status_code == 200

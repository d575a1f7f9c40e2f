"""现场收集意见: staff enter opinions collected at a reception or a deputy's visit."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.opinions.models import Opinion, OpinionEvent
from tests.auth.world import World
from tests.console.matrix import draft_of, past_of


def body(response) -> str:
    return response.get_data(as_text=True)


def nonce_of(page: str) -> str:
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', page).group(1)


def opinions() -> list[Opinion]:
    db.session.expire_all()
    return list(db.session.scalars(select(Opinion).order_by(Opinion.id)))


def entry(side, **changes) -> dict:
    data = {
        "station_id": side.station.id,
        "reception_id": "",
        "deputy_ids": [side.deputy.id],
        "category": "",
        "content": "小区门口的路灯坏了两周，晚上老人出行不便。",
        "contact_name": "王先生",
        "contact_mobile": "13912345678",
    }
    data.update(changes)
    return data


def test_the_form_offers_the_stations_receptions_and_deputies(world: World, login_as, make_deputy):
    a = world.own
    reception = past_of(a)
    second = make_deputy(a.town, name="艾第二", station=a.station)
    db.session.commit()
    client = login_as(world.actors[Role.STATION_STAFF])
    page = body(client.get("/console/collected/new"))  # their only station, chosen already
    assert a.station.name in page and a.deputy.name in page and second.name in page
    assert f'<option value="{reception.id}"' in page and reception.topic in page
    assert a.spare_deputy.name not in page and nonce_of(page)
    assert "群众同意留下联系方式" in page
    page = body(client.get(f"/console/collected/new?reception={reception.id}"))
    assert f'<option value="{reception.id}" selected' in page


def test_admins_choose_the_station_first(world: World, login_as, make_station):
    make_station(world.own.town, name="A镇人大代表之家")
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    page = body(client.get("/console/collected/new"))
    assert "下一步" in page and "A镇人大代表之家" in page and world.sides["b"].station.name not in page
    assert client.get(f"/console/collected/new?station={world.sides['b'].station.id}").status_code == 404


def test_entry_with_consent_stores_the_contact(world: World, login_as, make_deputy):
    a = world.own
    reception = past_of(a)
    second = make_deputy(a.town, name="艾第二", station=a.station)
    db.session.commit()
    user = world.actors[Role.STATION_STAFF]
    client = login_as(user)
    data = entry(a, reception_id=reception.id, deputy_ids=[second.id, a.deputy.id], consent="on")
    data["category"] = "urban"
    assert '<option value="urban">城乡建设</option>' in body(client.get("/console/collected/new"))  # seeded
    response = client.post("/console/collected/new", data=data, follow_redirects=True)
    (opinion,) = opinions()
    assert "意见已登记，查询编号 " + opinion.tracking_no in body(response)
    assert (opinion.channel, opinion.status, opinion.category) == ("staff", "pending", "urban")
    assert opinion.station_id == a.station.id and opinion.reception_id == reception.id
    assert opinion.deputy_id == second.id  # the first one named
    assert [link.deputy_id for link in opinion.via_deputies] == [second.id, a.deputy.id]
    assert (opinion.contact_name, opinion.contact_mobile) == ("王先生", "13912345678")
    assert opinion.resident_id is None
    (event,) = db.session.scalars(select(OpinionEvent).where(OpinionEvent.opinion_id == opinion.id))
    assert event.actor == f"staff:{user.username}" and event.action == "submit"

    page = body(client.get("/console/collected/"))
    assert opinion.tracking_no in page and "139****5678" in page and "13912345678" not in page
    assert "王**" in page and "王先生" not in page and "城乡建设" in page  # masked in lists


def test_without_consent_no_contact_is_stored(world: World, login_as):
    client = login_as(world.actors[Role.TOWN_ADMIN])
    response = client.post("/console/collected/new", data=entry(world.own))
    assert response.status_code == 302
    (opinion,) = opinions()
    assert (opinion.contact_name, opinion.contact_mobile, opinion.category) == ("", "", None)
    assert "未留" in body(client.get("/console/collected/"))


def test_bad_entries_are_explained_and_kept(world: World, login_as, make_station):
    a, b = world.own, world.sides["b"]
    elsewhere = make_station(a.town, name="A镇人大代表之家")
    other_reception = draft_of(replace(a, station=elsewhere))  # same scope, another station
    db.session.commit()
    client = login_as(world.actors[Role.TOWN_ADMIN])
    cases = [
        (entry(a, content="太短"), "留言内容至少 5 个字"),
        (entry(a, consent="on", contact_mobile="12345"), "请填写正确的 11 位手机号码"),
        (entry(a, deputy_ids=[a.spare_deputy.id]), "相关代表只能从编入该家站点的代表中选择"),
        (entry(a, reception_id=other_reception.id), "所选接待活动不是该家站点的"),
        (entry(a, category="no-such-category"), "请从列表中选择类别"),
        (entry(a, station_id=""), "请选择家站点"),
    ]
    for data, message in cases:
        response = client.post("/console/collected/new", data=data)
        assert response.status_code == 422, message
        assert message in body(response)
    response = client.post("/console/collected/new", data=entry(a, content="太短"))
    assert "王先生" in body(response) and "太短" in body(response)
    assert opinions() == []
    # Outside the scope: not found, whichever field names it.
    assert client.post("/console/collected/new", data=entry(b)).status_code == 404
    foreign_reception = past_of(b)
    db.session.commit()
    response = client.post("/console/collected/new", data=entry(a, reception_id=foreign_reception.id))
    assert response.status_code == 404


def test_a_resent_form_stores_the_opinion_once(world: World, login_as):
    client = login_as(world.actors[Role.STATION_STAFF])
    nonce = nonce_of(body(client.get("/console/collected/new")))
    for _ in range(2):
        client.post("/console/collected/new", data=entry(world.own, nonce=nonce))
    assert db.session.scalar(select(func.count()).select_from(Opinion)) == 1
    # The same old form filled in with something else is another opinion.
    client.post(
        "/console/collected/new", data=entry(world.own, nonce=nonce, content="另一件事：楼道灯也坏了")
    )
    assert db.session.scalar(select(func.count()).select_from(Opinion)) == 2
    client.post("/console/collected/new", data=entry(world.own, nonce="not-a-nonce"))
    client.post("/console/collected/new", data=entry(world.own, nonce="not-a-nonce"))
    assert db.session.scalar(select(func.count()).select_from(Opinion)) == 4


def test_the_list_shows_only_the_scope(world: World, login_as):
    a, b = world.own, world.sides["b"]
    login_as(world.actors[Role.CITY_ADMIN]).post(
        "/console/collected/new", data=entry(b, content="乙村垃圾清运不及时的问题")
    )
    client = login_as(world.actors[Role.STATION_STAFF])
    client.post("/console/collected/new", data=entry(a, content="甲村路灯坏了两周的问题"))
    page = body(client.get("/console/collected/"))
    assert "甲村路灯" in page and "乙村垃圾" not in page and b.station.name not in page


def test_deputies_and_units_do_not_enter_opinions(world: World, login_as):
    for role in (Role.DEPUTY, Role.UNIT_STAFF):
        client = login_as(world.actors[role])
        assert ">现场收集意见</a>" not in body(client.get("/console/"))
        assert client.get("/console/collected/new").status_code == 403
        assert client.post("/console/collected/new", data=entry(world.own)).status_code == 403

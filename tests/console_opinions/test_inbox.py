"""The inbox: per role, filters, search, counts per status, urgency order, paging, bulk 交办."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notify.models import AuditEntry
from app.opinions.inbox import inbox_select, parse_filter, status_counts
from app.opinions.models import OpinionStatus
from app.opinions.service import submit_opinion
from app.timeutil import local_now
from tests.console_opinions.conftest import body

TODAY = local_now().date()


def numbers(page: str) -> list[str]:
    """Tracking numbers in table order."""
    return re.findall(r'<td class="mono nowrap op-no"><a href="/console/opinions/(\w+)"', page)


def test_each_role_has_its_inbox(loop, as_user):
    here = loop.new("路灯坏了两个星期", deputy=loop.deputy)
    next_door = loop.new("垃圾清运不及时", station=loop.other_station)
    far = loop.new("公交站台缺少遮雨棚", station=loop.foreign_station)
    db.session.commit()
    expect = {
        "station": {here.tracking_no},
        "town": {here.tracking_no, next_door.tracking_no},
        "city": {here.tracking_no, next_door.tracking_no, far.tracking_no},
        "deputy": {here.tracking_no},
        "unit": set(),
    }
    for who, wanted in expect.items():
        page = body(as_user(loop.users[who]).get("/console/opinions/"))
        assert set(numbers(page)) == wanted, who
    page = body(as_user(loop.users["unit"]).get("/console/opinions/"))
    assert "没有符合条件的留言" in page and "批量交办" not in page


def test_filters(loop, as_user):
    urban = loop.to(loop.new("路灯坏了两个星期"), "classified", category="urban")
    legacy = loop.new("老小区加装电梯的补贴政策", category="城乡建设")  # an H5 resident's pick
    traffic = loop.to(loop.new("公交线路太少出行不便"), "classified", category="traffic")
    wechat = loop.new("菜市场周边乱停车", channel="wechat", resident_id="oWx1")
    staff = submit_opinion(station=loop.other_station, content="代表走访收集：河道有异味", channel="staff")
    old = loop.new("去年反映的下水道堵塞")
    old.created_at = datetime.now(UTC) - timedelta(days=40)
    db.session.commit()
    client = as_user(loop.users["district"])

    def shown(query: str) -> set[str]:
        return set(numbers(body(client.get("/console/opinions/?" + query))))

    assert shown("status=classified") == {urban.tracking_no, traffic.tracking_no}
    assert shown("category=urban") == {urban.tracking_no, legacy.tracking_no}
    assert shown("channel=wechat") == {wechat.tracking_no}
    assert shown("channel=staff") == {staff.tracking_no}  # entered at /console/collected
    assert shown(f"station={loop.other_station.id}") == {staff.tracking_no}
    town_b = loop.tree["town_b"]
    assert shown(f"region={loop.other_station.region_id}") == {staff.tracking_no}
    assert shown(f"region={town_b.id}") == set()  # outside the scope: nothing, not everything
    assert shown("q=电梯") == {legacy.tracking_no}
    assert shown(f"q={wechat.tracking_no.lower()}") == {wechat.tracking_no}
    assert shown("q=100%25") == set()  # LIKE wildcards are text
    since = (TODAY - timedelta(days=7)).isoformat()
    assert old.tracking_no not in shown(f"from={since}")
    assert shown(f"to={(TODAY - timedelta(days=30)).isoformat()}") == {old.tracking_no}
    assert shown("status=open") >= {urban.tracking_no, old.tracking_no}


def test_bad_filters_are_explained_not_500(loop, as_user):
    loop.new()
    db.session.commit()
    client = as_user(loop.users["town"])
    response = client.get(
        "/console/opinions/?status=nope&channel=fax&from=2026-13-01&to=x&region=abc&page=-3&sort=z"
    )
    assert response.status_code == 200
    page = body(response)
    assert "未知的办理状态" in page and "未知的留言渠道" in page and "开始日期格式" in page
    assert len(numbers(page)) == 1


def test_counts_per_status_follow_the_other_filters(loop, as_user):
    a = loop.to(loop.new("路灯坏了两个星期"), "classified")
    loop.to(loop.new("路灯又坏了一次"), "assigned")
    loop.new("绿化带缺少养护")
    db.session.commit()
    counts = status_counts(loop.users["town"], parse_filter({"status": "pending"}))
    assert counts["all"] == 3 and counts["pending"] == 1 and counts["classified"] == 1
    assert counts["assigned"] == 1 and counts["open"] == 3
    counts = status_counts(loop.users["town"], parse_filter({"q": "路灯"}))
    assert counts["all"] == 2 and counts["pending"] == 0
    page = body(as_user(loop.users["town"]).get("/console/opinions/?q=路灯"))
    assert re.search(r"已分类 <b>1</b>", page) and re.search(r"全部 <b>2</b>", page)
    assert a.tracking_no in page


def test_urgency_order_and_badges(loop, as_user):
    overdue = loop.to(loop.new("路灯坏了很久无人修"), "assigned")
    overdue.deadline = TODAY - timedelta(days=2)
    soon = loop.to(loop.new("人行道地砖松动"), "assigned")
    soon.deadline = TODAY + timedelta(days=1)
    later = loop.to(loop.new("小区绿化需要修剪"), "assigned")
    later.deadline = TODAY + timedelta(days=9)
    late = loop.new("楼道堆放杂物")
    late.accept_due = TODAY - timedelta(days=1)
    waiting = loop.to(loop.new("健身器材损坏"), "accepted")  # no clock: after the ones with one
    done = loop.to(loop.new("噪音扰民问题"), "fed_back")
    db.session.commit()
    client = as_user(loop.users["town"])
    page = body(client.get("/console/opinions/"))
    order = numbers(page)
    assert order[:2] == [overdue.tracking_no, late.tracking_no]
    assert order.index(soon.tracking_no) < order.index(later.tracking_no) < order.index(waiting.tracking_no)
    assert order.index(waiting.tracking_no) < order.index(done.tracking_no)
    assert page.count('class="badge overdue"') == 1 and page.count('class="badge late"') == 1
    assert 'class="is-overdue"' in page and 'class="is-late"' in page
    newest = numbers(body(client.get("/console/opinions/?sort=newest")))
    assert newest[0] == done.tracking_no and newest[-1] == overdue.tracking_no
    assert set(numbers(body(client.get("/console/opinions/?overdue=1")))) == {overdue.tracking_no}
    assert set(numbers(body(client.get("/console/opinions/?late=1")))) == {late.tracking_no}


def test_to_do_per_role(loop, as_user):
    pending = loop.new("路灯坏了两个星期")
    classified = loop.to(loop.new("公交线路太少"), "classified")
    assigned = loop.to(loop.new("垃圾清运不及时"), "assigned")
    replied = loop.to(loop.new("人行道地砖松动"), "replied")
    db.session.commit()

    def todo(who):
        return set(numbers(body(as_user(loop.users[who]).get("/console/opinions/?todo=1"))))

    assert todo("station") == {pending.tracking_no, replied.tracking_no}
    assert todo("town") == {classified.tracking_no}
    assert todo("unit") == {assigned.tracking_no}
    assert todo("deputy") == set()


def test_paging(loop, as_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    made = [loop.new(f"第{i}条关于路灯的意见") for i in range(5)]
    db.session.commit()
    client = as_user(loop.users["station"])
    first = body(client.get("/console/opinions/?sort=oldest&q=路灯"))
    third = body(client.get("/console/opinions/?sort=oldest&q=路灯&page=3"))
    assert numbers(first) == [o.tracking_no for o in made[:2]]
    assert numbers(third) == [made[4].tracking_no]
    assert "共 5 条" in first and "page=2" in first and "q=" in first


def test_inbox_query_is_the_one_the_api_can_use(loop):
    loop.new()
    loop.new(station=loop.foreign_station)
    rows = db.session.scalars(inbox_select(loop.users["station"], parse_filter({}))).all()
    assert [o.station_id for o in rows] == [loop.station.id]


# --- bulk 交办 -----------------------------------------------------------------------------------


def test_bulk_assign_commits_the_good_and_reports_the_rest(loop, as_user):
    first = loop.to(loop.new("路灯坏了两个星期"), "classified")
    second = loop.to(loop.new("路灯又坏了"), "classified")
    legal = loop.to(loop.new("工程款拖欠多年要打官司"), "accepted")
    legal.status = OpinionStatus.CLASSIFIED
    legal.is_legal = True
    pending = loop.new("还没受理的留言")
    db.session.commit()
    client = as_user(loop.users["town"])
    response = client.post(
        "/console/opinions/bulk-assign",
        data={
            "no": [first.tracking_no, second.tracking_no, legal.tracking_no, pending.tracking_no],
            "unit_code": loop.unit.code,
            "next": "/console/opinions/?status=classified",
        },
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == "/console/opinions/?status=classified"
    )
    landing = body(client.get(response.headers["Location"]))
    assert "已将 2 条留言交办A区住建局" in landing
    assert f"留言 {legal.tracking_no} 未能交办：涉法涉诉" in landing
    assert f"留言 {pending.tracking_no} 未能交办：留言当前为“待受理”" in landing
    db.session.expire_all()
    assert first.status == second.status == OpinionStatus.ASSIGNED and first.deadline is not None
    assert legal.status == OpinionStatus.CLASSIFIED and pending.status == OpinionStatus.PENDING
    audited = db.session.scalars(
        select(AuditEntry.object_id).where(AuditEntry.action == "opinion.assign")
    ).all()
    assert sorted(audited) == sorted([first.tracking_no, second.tracking_no])


def test_bulk_assign_refuses_a_foreign_unit_or_opinion(loop, as_user):
    mine = loop.to(loop.new(), "classified")
    theirs = loop.new(station=loop.foreign_station)
    db.session.commit()
    client = as_user(loop.users["town"])
    response = client.post(
        "/console/opinions/bulk-assign", data={"no": mine.tracking_no, "unit_code": loop.foreign_unit.code}
    )
    assert "请选择您可以交办的承办单位" in body(client.get(response.headers["Location"]))
    response = client.post(
        "/console/opinions/bulk-assign",
        data={"no": [mine.tracking_no, theirs.tracking_no], "unit_code": loop.unit.code},
    )
    assert response.status_code == 404
    response = client.post("/console/opinions/bulk-assign", data={"unit_code": loop.unit.code})
    assert "请先勾选" in body(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert mine.status == OpinionStatus.CLASSIFIED


@pytest.mark.parametrize("who", ["station", "unit", "deputy"])
def test_bulk_assign_is_for_supervisors(loop, as_user, who):
    opinion = loop.to(loop.new(), "classified")
    db.session.commit()
    response = as_user(loop.users[who]).post(
        "/console/opinions/bulk-assign", data={"no": opinion.tracking_no, "unit_code": loop.unit.code}
    )
    assert response.status_code == 403


def test_pending_counts(loop):
    from app.console_opinions.counts import pending_counts

    overdue = loop.to(loop.new("路灯坏了很久"), "assigned")
    overdue.deadline = TODAY - timedelta(days=1)
    late = loop.new("楼道堆放杂物")
    late.accept_due = TODAY - timedelta(days=1)
    loop.to(loop.new("公交线路太少"), "classified")
    db.session.flush()
    assert pending_counts(loop.users["town"]) == {"overdue": 1, "late": 1, "todo": 1}
    assert pending_counts(loop.users["station"]) == {"overdue": 1, "late": 1, "todo": 1}
    assert pending_counts(loop.users["unit"]) == {"overdue": 1, "late": 0, "todo": 1}
    assert pending_counts(loop.users["foreign_district"]) == {"overdue": 0, "late": 0, "todo": 0}

"""An opinion's page: escaped content, masked contact until revealed (and logged), the timeline,
similar opinions, and every action through the console with its errors in Chinese."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.notify.models import AuditEntry
from app.opinions.models import OpinionStatus as S
from app.opinions.models import ReplyTemplate
from app.opinions.pipeline import perform, rate
from tests.console_opinions.conftest import body


def jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "blue").save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def page_of(client, opinion) -> str:
    response = client.get(f"/console/opinions/{opinion.tracking_no}")
    assert response.status_code == 200, body(response)[:300]
    return body(response)


def act(client, opinion, action: str, **data):
    return client.post(f"/console/opinions/{opinion.tracking_no}/actions", data={"action": action, **data})


def offered(page: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="action" value="(\w+)">', page)


def test_the_page_shows_the_opinion_escaped_with_photos_and_timeline(loop, as_user):
    opinion = loop.new(
        "<script>alert('x')</script> 路灯坏了两个星期",
        contact_name="王小明",
        contact_mobile="13912345678",
        deputy=loop.deputy,
        photos=[jpeg()],
    )
    loop.to(opinion, "classified")
    db.session.commit()
    page = page_of(as_user(loop.users["town"]), opinion)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert f'src="/media/{opinion.photos[0].path}"' in page
    assert "扫码留言" in page and "A村联络站" in page and "艾代表" in page and "城乡建设" in page
    assert "<small>待受理 → 已受理</small>" in page and "已受理 → 已分类" in page and "op_station" not in page
    assert "测试用户<small>家站点工作人员</small>" in page  # the actor, by name and role
    # Masked until revealed: name and mobile.
    assert "王*" in page and "139****5678" in page
    assert "王小明" not in page and "13912345678" not in page
    assert offered(page) == ["assign", "classify", "escalate", "merge"]


def test_reveal_shows_the_contact_once_and_is_audited(loop, as_user):
    opinion = loop.new(contact_name="王小明", contact_mobile="13912345678")
    db.session.commit()
    client = as_user(loop.users["station"])
    response = client.post(f"/console/opinions/{opinion.tracking_no}/contact")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "王小明" in body(response) and "13912345678" in body(response)
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_contact")).all()
    assert entry.actor == "staff:op_station" and entry.actor_user_id == loop.users["station"].id
    assert entry.object_id == opinion.tracking_no and entry.at is not None
    assert "13912345678" not in page_of(client, opinion)  # masked again on the next view


def test_reveal_needs_csrf_when_csrf_is_on(loop, as_user, app, monkeypatch):
    opinion = loop.new(contact_name="王小明", contact_mobile="13912345678")
    db.session.commit()
    client = as_user(loop.users["station"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(f"/console/opinions/{opinion.tracking_no}/contact")
    assert response.status_code == 400 and "13912345678" not in body(response)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reveal_contact")) is None


def test_no_contact_nothing_to_reveal(loop, as_user):
    opinion = loop.new()
    db.session.commit()
    client = as_user(loop.users["station"])
    assert "群众未留联系方式" in page_of(client, opinion)
    response = client.post(f"/console/opinions/{opinion.tracking_no}/contact")
    assert response.status_code == 422 and "没有留下联系方式" in body(response)


def test_unit_staff_reveal_only_what_is_assigned_to_them(loop, as_user):
    opinion = loop.new(contact_name="王小明", contact_mobile="13912345678")
    db.session.commit()
    client = as_user(loop.users["unit"])
    assert client.post(f"/console/opinions/{opinion.tracking_no}/contact").status_code == 404
    loop.to(opinion, "assigned")
    db.session.commit()
    response = client.post(f"/console/opinions/{opinion.tracking_no}/contact")
    assert response.status_code == 200 and "13912345678" in body(response)
    other = as_user(loop.users["foreign_unit"])
    assert other.post(f"/console/opinions/{opinion.tracking_no}/contact").status_code == 404
    actors = db.session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "reveal_contact")).all()
    assert actors == ["staff:op_unit"]


# --- the loop through the console ------------------------------------------------------------------


def test_the_whole_loop_through_the_console(loop, as_user):
    opinion = loop.new(resident_id="oRes1")
    db.session.commit()
    station, town, unit = (as_user(loop.users[k]) for k in ("station", "town", "unit"))
    n = opinion.tracking_no

    assert offered(page_of(station, opinion)) == ["accept", "reject"]
    response = act(station, opinion, "accept", note="已电话联系")
    assert response.status_code == 302 and response.headers["Location"] == f"/console/opinions/{n}"
    assert "已受理：当前状态为“已受理”" in body(station.get(response.headers["Location"]))
    assert act(station, opinion, "classify", category="urban").status_code == 302
    assert offered(page_of(station, opinion)) == ["classify"]
    page = page_of(town, opinion)
    assert (
        loop.unit.name in page
        and "A区人民法院" not in page.split('name="unit_code"')[1].split("</select>")[0]
    )
    assert act(town, opinion, "assign", unit_code=loop.unit.code).status_code == 302
    assert offered(page_of(unit, opinion)) == ["reply", "return"]
    assert act(unit, opinion, "reply", text="已安排维修，三日内修复。").status_code == 302
    assert act(station, opinion, "feedback", text="").status_code == 302
    db.session.expire_all()
    assert opinion.status == S.FED_BACK and opinion.answer_text == "已安排维修，三日内修复。"
    assert [e.action for e in opinion.events] == [
        "submit",
        "accept",
        "classify",
        "assign",
        "reply",
        "feedback",
    ]
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == n).order_by(AuditEntry.id)
    ).all()
    assert audited == [
        "opinion.accept",
        "opinion.classify",
        "opinion.assign",
        "opinion.reply",
        "opinion.feedback",
    ]
    detail = db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "opinion.accept"))
    assert detail == "受理：note=已电话联系"


def test_validation_errors_keep_the_form(loop, as_user):
    opinion = loop.new()
    db.session.commit()
    station = as_user(loop.users["station"])
    response = act(station, opinion, "reject", reason="")
    assert response.status_code == 422
    page = body(response)
    assert "请填写不予受理的理由" in page and '<details class="op-action" open id="do-reject">' in page
    perform(opinion, "accept", loop.users["station"])
    db.session.commit()
    response = act(station, opinion, "classify", category="nope", legal="on")
    assert response.status_code == 422 and "请选择留言分类" in body(response)
    assert 'name="legal" checked' in body(response)  # the ticked box stays ticked
    response = act(station, opinion, "accept", note="再受理一次")
    assert response.status_code == 409 and "不能执行“受理”" in body(response)
    db.session.expire_all()
    assert opinion.status == S.ACCEPTED and len(opinion.events) == 2


def test_illegal_and_forbidden_actions_are_refused_in_chinese(loop, as_user):
    opinion = loop.new(deputy=loop.deputy)
    db.session.commit()
    town, station, deputy = (as_user(loop.users[k]) for k in ("town", "station", "deputy"))
    response = act(town, opinion, "assign", unit_code=loop.unit.code)
    assert response.status_code == 409 and "留言当前为“待受理”，不能执行“交办”" in body(response)
    response = act(station, opinion, "urge", note="快")
    assert response.status_code == 403 and "您的角色不能对该留言执行“催办”" in body(response)
    response = act(deputy, opinion, "accept")
    assert response.status_code == 403
    response = act(station, opinion, "approve")
    assert response.status_code == 422 and "未知的操作" in body(response)
    response = act(station, opinion, "")
    assert response.status_code == 422
    db.session.expire_all()
    assert opinion.status == S.PENDING and len(opinion.events) == 1
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_side_paths_through_the_console(loop, as_user, make_deputy):
    other = make_deputy(loop.tree["town_a"], name="柏代表", station=loop.station)
    legal = loop.to(loop.new("工程款纠纷法院判决后一直没有执行"), "accepted")
    major = loop.to(loop.new("全镇老小区都没有电梯"), "accepted")
    up = loop.to(loop.new("跨区的河道污染"), "accepted")
    dup = loop.new("路灯坏了两个星期，晚上出行不便")
    first = loop.new("小区门口路灯坏了")
    db.session.commit()
    station, town, district, court = (
        as_user(loop.users[k]) for k in ("station", "town", "district", "court")
    )

    assert act(station, legal, "classify", category="legal", legal="on").status_code == 302
    page = page_of(town, legal)
    assert "guide" in offered(page) and "assign" not in offered(page) and "A区人民法院（司法机关）" in page
    assert (
        act(town, legal, "guide", text="请向A区人民法院申请强制执行", unit_code=loop.court.code).status_code
        == 302
    )
    assert offered(page_of(court, legal)) == ["reply"]

    assert act(station, major, "classify", category="elderly", major="on").status_code == 302
    page = page_of(town, major)
    assert "convert" in offered(page) and "柏代表" in page and "艾代表" in page
    response = act(town, major, "convert")
    assert response.status_code == 422 and "请选择提出建议的代表" in body(response)
    response = town.post(
        f"/console/opinions/{major.tracking_no}/actions",
        data={"action": "convert", "deputy_ids": [loop.deputy.id, other.id]},
    )
    assert response.status_code == 302

    assert act(town, up, "escalate", note="涉及两个区").status_code == 302
    db.session.expire_all()
    assert up.status == S.ESCALATED and up.owner_region_id == loop.tree["district_a"].id
    assert offered(page_of(town, up)) == []
    assert "已上报" in page_of(town, up)
    assert offered(page_of(district, up)) == ["assign", "classify", "escalate", "merge"]

    response = act(town, dup, "merge", into="NOPE")
    assert response.status_code == 422 and "另一条留言的编号" in body(response)
    assert act(town, dup, "merge", into=first.tracking_no.lower()).status_code == 302
    page = page_of(town, first)
    assert "已合并到本条" in page and dup.tracking_no in page
    db.session.expire_all()
    assert legal.status == S.GUIDED and major.status == S.CONVERTED and dup.status == S.MERGED
    assert {s.deputy_id for s in major.sponsors} == {loop.deputy.id, other.id}


def test_urge_return_reassign_and_close(loop, as_user):
    opinion = loop.to(loop.new(), "assigned")
    db.session.commit()
    town, unit = as_user(loop.users["town"]), as_user(loop.users["unit"])
    response = act(town, opinion, "urge", note="")
    assert response.status_code == 422 and "请填写催办意见" in body(response)
    assert act(town, opinion, "urge", note="请本周内答复").status_code == 302
    page = page_of(town, opinion)
    assert "1 次" in page and "请本周内答复" in page
    assert act(unit, opinion, "return", reason="不属于本单位职责").status_code == 302
    assert unit.get(f"/console/opinions/{opinion.tracking_no}").status_code == 404  # returned: not theirs
    assert act(town, opinion, "assign", unit_code=loop.unit.code).status_code == 302
    perform(opinion, "reply", loop.users["unit"], {"text": "已处理"})
    perform(opinion, "feedback", loop.users["station"], {})
    rate(opinion, "oRes1", "unsatisfied")
    perform(opinion, "reply", loop.users["unit"], {"text": "已更换"})
    perform(opinion, "feedback", loop.users["station"], {})
    rate(opinion, "oRes1", "unsatisfied")
    db.session.commit()
    page = page_of(town, opinion)
    assert "群众仍不满意，待上级决定" in page and offered(page) == ["close", "reassign"]
    response = act(town, opinion, "reassign", note="")
    assert response.status_code == 422 and "请填写再交办意见" in body(response)
    assert act(town, opinion, "reassign", note="请实地复查后再答复").status_code == 302
    db.session.expire_all()
    assert opinion.status == S.ASSIGNED and opinion.unit_id == loop.unit.id
    perform(opinion, "reply", loop.users["unit"], {"text": "已复查"})
    perform(opinion, "feedback", loop.users["station"], {})
    rate(opinion, "oRes1", "unsatisfied")
    db.session.commit()
    response = act(town, opinion, "close", note="")
    assert response.status_code == 422 and "请填写办结说明" in body(response)
    assert act(town, opinion, "close", note="经核查已修复").status_code == 302
    db.session.expire_all()
    assert opinion.status == S.CLOSED


def test_reply_uses_the_chosen_template(loop, as_user):
    opinion = loop.to(loop.new(), "assigned")
    template = ReplyTemplate(
        unit_id=loop.unit.id, title="已列入维修计划", text="您反映的路灯已列入本月维修计划。"
    )
    foreign = ReplyTemplate(unit_id=loop.foreign_unit.id, title="外单位答复", text="外单位的答复")
    db.session.add_all([template, foreign])
    db.session.commit()
    unit = as_user(loop.users["unit"])
    page = page_of(unit, opinion)
    assert "已列入维修计划" in page and 'data-text="您反映的路灯已列入本月维修计划。"' in page
    assert "外单位答复" not in page
    response = act(unit, opinion, "reply", text="", template_id=str(foreign.id))
    assert response.status_code == 422 and "请填写答复内容" in body(response)
    assert act(unit, opinion, "reply", text="", template_id=str(template.id)).status_code == 302
    db.session.expire_all()
    assert opinion.reply_text == "您反映的路灯已列入本月维修计划。"


def test_similar_opinions_are_linked(loop, as_user):
    opinion = loop.new("小区门口的路灯坏了两个星期，晚上出行不便")
    near = loop.new("我们小区大门口路灯坏了，晚上很黑出行不方便", station=loop.other_station)
    loop.new("希望增加公交线路，方便老人去医院看病")
    far = loop.new("小区门口的路灯坏了两个星期，晚上出行不便", station=loop.foreign_station)
    db.session.commit()
    page = page_of(as_user(loop.users["town"]), opinion)
    assert f'href="/console/opinions/{near.tracking_no}"' in page and "相似" in page
    assert "公交线路" not in page
    assert far.tracking_no not in page  # another district: neither nearby nor visible
    station_page = page_of(as_user(loop.users["station"]), opinion)
    assert near.tracking_no not in station_page  # the other station is not theirs to see


@pytest.mark.parametrize("path", ["%3Cscript%3E", "x" * 100, "..%2F..%2Fetc"])
def test_odd_tracking_numbers_are_404(loop, as_user, path):
    response = as_user(loop.users["city"]).get(f"/console/opinions/{path}")
    assert response.status_code == 404

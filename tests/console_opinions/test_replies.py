"""常用答复: units keep their own reply texts; admins keep those of the units in their region."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.opinions.models import ReplyTemplate
from tests.console_opinions.conftest import body


def templates() -> list[tuple[int, str, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id))
    return [(t.unit_id, t.title, t.text) for t in rows]


def test_unit_staff_manage_their_own_templates(loop, as_user):
    client = as_user(loop.users["unit"])
    page = body(client.get("/console/opinions/replies/new"))
    assert loop.unit.name in page and loop.foreign_unit.name not in page and loop.court.name not in page
    response = client.post(
        "/console/opinions/replies/new",
        data={"unit_id": loop.unit.id, "title": "已列入计划", "text": "您反映的问题已列入年度计划。"},
    )
    assert response.status_code == 302
    assert "已添加常用答复“已列入计划”" in body(client.get(response.headers["Location"]))
    assert templates() == [(loop.unit.id, "已列入计划", "您反映的问题已列入年度计划。")]
    (template_id,) = db.session.scalars(select(ReplyTemplate.id)).all()
    response = client.post(
        f"/console/opinions/replies/{template_id}/edit",
        data={
            "title": "已列入年度计划",
            "text": "已列入计划，预计年内完成。",
            "unit_id": loop.foreign_unit.id,
        },
    )
    assert response.status_code == 302
    assert templates() == [(loop.unit.id, "已列入年度计划", "已列入计划，预计年内完成。")]  # unit unchanged
    assert "已列入年度计划" in body(client.get("/console/opinions/replies/"))
    assert client.post(f"/console/opinions/replies/{template_id}/delete").status_code == 302
    assert templates() == []


def test_form_errors_in_chinese(loop, as_user):
    client = as_user(loop.users["unit"])
    response = client.post(
        "/console/opinions/replies/new", data={"unit_id": loop.unit.id, "title": "", "text": "x"}
    )
    assert response.status_code == 422 and "请填写标题" in body(response)
    response = client.post(
        "/console/opinions/replies/new", data={"unit_id": loop.unit.id, "title": "t" * 65, "text": "x"}
    )
    assert response.status_code == 422 and "标题不能超过 64 个字" in body(response)
    response = client.post("/console/opinions/replies/new", data={"unit_id": "", "title": "t", "text": "x"})
    assert response.status_code == 422 and "请选择承办单位" in body(response)
    assert templates() == []


def test_nobody_touches_another_units_templates(loop, as_user):
    theirs = ReplyTemplate(unit_id=loop.foreign_unit.id, title="外单位答复", text="外单位")
    court = ReplyTemplate(unit_id=loop.court.id, title="法院答复", text="法院")
    db.session.add_all([theirs, court])
    db.session.commit()
    for who in ("unit", "district"):
        client = as_user(loop.users[who])
        assert "外单位答复" not in body(client.get("/console/opinions/replies/"))
        assert client.get(f"/console/opinions/replies/{theirs.id}/edit").status_code == 404
        assert client.post(f"/console/opinions/replies/{theirs.id}/delete").status_code == 404
        response = client.post(
            "/console/opinions/replies/new", data={"unit_id": loop.foreign_unit.id, "title": "t", "text": "x"}
        )
        assert response.status_code == 404
    unit = as_user(loop.users["unit"])
    assert unit.get(f"/console/opinions/replies/{court.id}/edit").status_code == 404  # a sibling unit
    district = as_user(loop.users["district"])
    assert "法院答复" in body(district.get("/console/opinions/replies/"))  # a unit of their district
    assert (
        district.post(
            f"/console/opinions/replies/{court.id}/edit", data={"title": "法院", "text": "y"}
        ).status_code
        == 302
    )
    for who in ("station", "deputy"):
        assert as_user(loop.users[who]).get("/console/opinions/replies/").status_code == 403
    assert len(templates()) == 2

"""``/api/v1/opinions``: leave one (JSON or multipart with photos), list one's own, follow it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from PIL import Image

from app.extensions import db
from app.opinions.models import Opinion, OpinionStatus
from app.opinions.pipeline import perform
from app.opinions.service import record_event
from app.public.progress import opinion_progress, public_answer, public_timeline
from app.receptions.models import ReceptionStatus

ITEM_KEYS = {
    "tracking_no",
    "status",
    "status_label",
    "station",
    "category",
    "content",
    "channel",
    "channel_label",
    "reception_id",
    "deputy",
    "photo_urls",
    "tracking_url",
    "created_at",
}
DETAIL_KEYS = ITEM_KEYS | {
    "contact_name",
    "contact_mobile",
    "progress",
    "timeline",
    "answer",
    "rateable",
    "satisfaction",
    "satisfaction_label",
    "satisfaction_comment",
}


def _validator(client, name: str) -> OAS30Validator:
    spec = client.get("/api/v1/openapi.json").get_json()
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def _png(color: str = "red") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _opinions() -> list[Opinion]:
    return list(db.session.scalars(db.select(Opinion)))


def _post(client, headers, **fields):
    return client.post("/api/v1/opinions", json=fields, headers=headers)


def test_leave_an_opinion(client, site, sign_in):
    headers = sign_in()
    station = site["station"]
    city = site["deputies"][0]
    reception = site["receptions"]["service_day"]
    response = _post(
        client,
        headers,
        station_code=station.code,
        content="小区门口的路灯坏了两周，晚上出行不便。",
        category="城乡建设",
        contact_name="王先生",
        contact_mobile="13912345678",
        reception_id=reception.id,
        deputy_id=city.id,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == DETAIL_KEYS
    number = body["tracking_no"]
    assert len(number) == 12
    assert body["status"] == "pending" and body["status_label"] == "待受理"
    assert body["station"] == {"code": station.code, "name": station.name}
    assert body["deputy"] == {"id": city.id, "name": "陈立"}
    assert body["reception_id"] == reception.id
    assert (body["channel"], body["channel_label"]) == ("miniapp", "小程序")
    assert (body["contact_name"], body["contact_mobile"]) == ("王先生", "13912345678")
    assert body["tracking_url"] == f"http://jzd.test/t/{number}"
    assert body["photo_urls"] == []
    assert body["answer"] is None
    assert [entry["label"] for entry in body["timeline"]] == ["提交留言"]
    assert "小程序" in body["timeline"][0]["text"]
    assert body["progress"]["steps"][0] == {"label": "待受理", "state": "current"}
    _validator(client, "OpinionDetail").validate(body)

    (opinion,) = _opinions()
    assert opinion.tracking_no == number
    assert opinion.channel == "miniapp"
    assert opinion.content_check == "pass"  # msg_sec_check ran on the resident's openid
    assert opinion.category == "urban"  # stored as the managed category code


def test_minimal_opinion_is_anonymous(client, site, sign_in):
    response = _post(client, sign_in(), station_code=site["station"].code, content="  路灯不亮了  ")
    assert response.status_code == 201
    body = response.get_json()
    assert body["content"] == "路灯不亮了"
    assert (body["category"], body["deputy"], body["reception_id"]) == (None, None, None)
    assert (body["contact_name"], body["contact_mobile"]) == ("", "")


def test_multipart_with_photos(app, client, site, sign_in):
    response = client.post(
        "/api/v1/opinions",
        data={
            "station_code": site["station"].code,
            "content": "楼道堆物有火灾隐患，请尽快处理。",
            "deputy_id": str(site["deputies"][1].id),
            "photos": [(_png(), "a.png"), (_png("blue"), "b.png")],
        },
        headers=sign_in(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["photo_urls"]) == 2
    assert body["deputy"]["name"] == "周敏"
    for url in body["photo_urls"]:
        assert url.startswith("http://jzd.test/media/opinions/") and url.endswith(".jpg")
        stored = Path(app.config["UPLOAD_FOLDER"]) / url.removeprefix("http://jzd.test/media/")
        assert stored.read_bytes()[:3] == b"\xff\xd8\xff"  # re-encoded JPEG


def test_an_empty_file_input_is_no_photo(client, site, sign_in):
    response = client.post(
        "/api/v1/opinions",
        data={
            "station_code": site["station"].code,
            "content": "路灯不亮了很久",
            "photos": (io.BytesIO(b""), ""),
        },
        headers=sign_in(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert response.get_json()["photo_urls"] == []


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        ([(_png(), f"{i}.png") for i in range(4)], "最多上传 3 张"),
        ([(io.BytesIO(b"not an image"), "x.png")], "图片"),
        ([(io.BytesIO(b"\x00" * (5 * 1024 * 1024 + 10)), "big.png")], "5 MB"),
    ],
)
def test_bad_photos_are_422_and_nothing_is_stored(client, site, sign_in, photos, message):
    response = client.post(
        "/api/v1/opinions",
        data={"station_code": site["station"].code, "content": "楼道堆物有火灾隐患", "photos": photos},
        headers=sign_in(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]
    assert _opinions() == []


def test_risky_text_is_refused_and_not_stored(client, site, sign_in):
    response = _post(client, sign_in(), station_code=site["station"].code, content="有人在小区里聚众赌博")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "content_rejected"
    assert "内容安全" in error["message"]
    assert _opinions() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"content": "太短"}, "content"),
        ({"content": "    太短了    "}, "content"),  # 4 characters once trimmed
        ({"content": "长" * 2001}, "content"),
        ({"content": "含\x00空字符的内容"}, "content"),
        ({"station_code": "zzzzzz"}, "station_code"),
        ({"station_code": "a b"}, "station_code"),
        ({"contact_mobile": "12345"}, "contact_mobile"),
        ({"contact_name": "名" * 33}, "contact_name"),
        ({"category": "类" * 33}, "category"),
        ({"category": "a\nb"}, "category"),
        ({"deputy_id": 2**31 - 1}, "deputy_id"),
        ({"reception_id": 2**31 - 1}, "reception_id"),
        ({"reception_id": -1}, "reception_id"),
        ({"photos": ["x"]}, "photos"),
    ],
)
def test_bad_opinion_input_is_422(client, site, sign_in, changes, field):
    body = {"station_code": site["station"].code, "content": "小区门口路灯坏了"}
    body.update(changes)
    response = _post(client, sign_in(), **body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert _opinions() == []


def test_reception_and_deputy_must_belong_to_the_station(
    client, site, sign_in, region_tree, make_station, make_deputy
):
    other = make_station(region_tree()["village_b"])
    stranger = make_deputy(site["tree"]["town_b"], name="外站代表", station=other)
    db.session.commit()
    headers = sign_in()
    code = site["station"].code
    foreign_deputy = _post(
        client, headers, station_code=code, content="路灯坏了很久了", deputy_id=stranger.id
    )
    assert foreign_deputy.status_code == 422
    assert "deputy_id" in foreign_deputy.get_json()["error"]["fields"]
    foreign_reception = _post(
        client,
        headers,
        station_code=other.code,
        content="路灯坏了很久了",
        reception_id=site["receptions"]["service_day"].id,
    )
    assert foreign_reception.status_code == 422
    assert "reception_id" in foreign_reception.get_json()["error"]["fields"]
    draft = _post(
        client,
        headers,
        station_code=code,
        content="路灯坏了很久了",
        reception_id=site["receptions"]["draft"].id,
    )
    assert draft.status_code == 422


def test_suspended_station_takes_no_opinions(client, site, sign_in):
    site["station"].status = "suspended"
    db.session.commit()
    response = _post(client, sign_in(), station_code=site["station"].code, content="路灯坏了很久了")
    assert response.status_code == 422
    assert "暂停开放" in response.get_json()["error"]["message"]


def test_mine_and_detail_are_the_owners_only(client, site, sign_in):
    me, neighbour = sign_in("me"), sign_in("neighbour")
    code = site["station"].code
    first = _post(
        client, me, station_code=code, content="第一条：路灯坏了", contact_mobile="13912345678"
    ).get_json()
    second = _post(client, me, station_code=code, content="第二条：井盖松动").get_json()
    theirs = _post(
        client, neighbour, station_code=code, content="邻居的留言内容", contact_name="邻居老李"
    ).get_json()

    mine = client.get("/api/v1/opinions/mine", headers=me).get_json()
    assert [item["tracking_no"] for item in mine["items"]] == [second["tracking_no"], first["tracking_no"]]
    assert mine["total"] == 2
    assert all(set(item) == ITEM_KEYS for item in mine["items"])
    _validator(client, "OpinionList").validate(mine)
    assert "邻居" not in str(mine)

    own = client.get(f"/api/v1/opinions/{first['tracking_no']}", headers=me)
    assert own.status_code == 200
    assert own.get_json()["contact_mobile"] == "13912345678"
    _validator(client, "OpinionDetail").validate(own.get_json())

    # The neighbour's opinion is as invisible as one that does not exist.
    for number in (theirs["tracking_no"], "ABCDEFGHJKMN"):
        response = client.get(f"/api/v1/opinions/{number}", headers=me)
        assert response.status_code == 404
        assert response.get_json()["error"] == {
            "code": "not_found",
            "message": "未找到该留言，请核对查询编号。",
        }
    assert [
        i["tracking_no"] for i in client.get("/api/v1/opinions/mine", headers=neighbour).get_json()["items"]
    ] == [theirs["tracking_no"]]


def test_tracking_number_as_typed_by_hand(client, site, sign_in):
    me = sign_in()
    number = _post(client, me, station_code=site["station"].code, content="路灯坏了很久了").get_json()[
        "tracking_no"
    ]
    typed = f"{number[:4]}-{number[4:8]}-{number[8:]}".lower()
    assert client.get(f"/api/v1/opinions/{typed}", headers=me).get_json()["tracking_no"] == number


@pytest.mark.parametrize("number", ["%00", "x" * 60, "%E4%B8%AD%E6%96%87", "----"])
def test_weird_tracking_numbers_are_404(client, sign_in, number):
    response = client.get(f"/api/v1/opinions/{number}", headers=sign_in())
    assert response.status_code == 404


def test_timeline_is_the_resident_facing_one(client, site, sign_in):
    """The API shows the same progress as the tracking page, and never a staff note."""
    me = sign_in()
    number = _post(client, me, station_code=site["station"].code, content="路灯坏了很久了").get_json()[
        "tracking_no"
    ]
    opinion = db.session.scalar(db.select(Opinion).where(Opinion.tracking_no == number))
    steps = [
        (OpinionStatus.PENDING, OpinionStatus.ACCEPTED, "内部备注：请王科长关注"),
        (OpinionStatus.ACCEPTED, OpinionStatus.ASSIGNED, "交市政园林局，联系人 13800000000"),
    ]
    for old, new, note in steps:
        record_event(opinion, "transition", actor="staff:wang", from_status=old, to_status=new, note=note)
    opinion.status = OpinionStatus.ASSIGNED
    db.session.commit()

    body = client.get(f"/api/v1/opinions/{number}", headers=me).get_json()
    assert body["status_label"] == "已交办"
    assert [(entry["label"], entry["text"]) for entry in body["timeline"]] == [
        (entry.label, entry.text) for entry in public_timeline(opinion)
    ]
    assert [entry["label"] for entry in body["timeline"]][:1] == ["提交留言"]
    assert len(body["timeline"]) == 3
    assert all(entry["at"].endswith("+08:00") for entry in body["timeline"])
    progress = opinion_progress(opinion)
    assert body["progress"]["steps"] == [
        {"label": step.label, "state": step.state} for step in progress.steps
    ]
    answer = public_answer(opinion)
    assert (body["answer"] is None) == (answer is None)
    text = str(body)
    assert "王科长" not in text and "13800000000" not in text and "staff:wang" not in text
    _validator(client, "OpinionDetail").validate(body)


def test_cancelled_reception_is_not_a_source(client, site, sign_in):
    reception = site["receptions"]["service_day"]
    reception.status = ReceptionStatus.CANCELLED
    db.session.commit()
    response = _post(
        client,
        sign_in(),
        station_code=site["station"].code,
        content="路灯坏了很久了",
        reception_id=reception.id,
    )
    assert response.status_code == 422


# --- rating the answer ------------------------------------------------------------------------


@pytest.fixture
def answered(client, site, sign_in, make_unit, make_user):
    """A resident's opinion taken through the closed loop up to 已反馈 by the staff."""
    tree = site["tree"]
    unit = make_unit(tree["district_a"], name="A区市政园林局")
    staff = make_user("station_staff", site["station"])
    town = make_user("town_admin", tree["town_a"])
    unit_user = make_user("unit_staff", unit)
    me = sign_in("me")
    number = _post(client, me, station_code=site["station"].code, content="小区门口路灯坏了").get_json()[
        "tracking_no"
    ]
    opinion = db.session.scalar(db.select(Opinion).where(Opinion.tracking_no == number))
    perform(opinion, "accept", staff)
    perform(opinion, "classify", staff, {"category": "urban"})
    perform(opinion, "assign", town, {"unit_code": unit.code})
    perform(opinion, "reply", unit_user, {"text": "路灯已于本周修复。"})
    perform(opinion, "feedback", staff, {})
    db.session.commit()
    return {"headers": me, "number": number, "opinion": opinion}


def test_rate_the_answer(client, answered):
    me, number = answered["headers"], answered["number"]
    before = client.get(f"/api/v1/opinions/{number}", headers=me).get_json()
    assert before["rateable"] is True and before["satisfaction"] is None
    assert before["answer"]["text"] == "路灯已于本周修复。"

    response = client.post(
        f"/api/v1/opinions/{number}/rating",
        json={"satisfaction": "satisfied", "comment": "修得很快"},
        headers=me,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["status_label"]) == ("closed", "已办结")
    assert (body["satisfaction"], body["satisfaction_label"], body["satisfaction_comment"]) == (
        "satisfied",
        "满意",
        "修得很快",
    )
    assert body["rateable"] is False
    _validator(client, "OpinionDetail").validate(body)
    again = client.post(f"/api/v1/opinions/{number}/rating", json={"satisfaction": "satisfied"}, headers=me)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "illegal_transition"


def test_unsatisfied_has_it_handled_again(client, answered):
    me, number = answered["headers"], answered["number"]
    body = client.post(
        f"/api/v1/opinions/{number}/rating",
        json={"satisfaction": "unsatisfied", "comment": "晚上还是黑"},
        headers=me,
    ).get_json()
    assert body["status"] == "assigned" and body["rateable"] is False


def test_only_the_owner_rates(client, answered, sign_in):
    number = answered["number"]
    response = client.post(
        f"/api/v1/opinions/{number}/rating", json={"satisfaction": "satisfied"}, headers=sign_in("x")
    )
    assert response.status_code == 404
    assert answered["opinion"].status == "fed_back"


def test_nothing_to_rate_before_the_answer(client, site, sign_in):
    me = sign_in()
    number = _post(client, me, station_code=site["station"].code, content="路灯坏了很久了").get_json()[
        "tracking_no"
    ]
    assert client.get(f"/api/v1/opinions/{number}", headers=me).get_json()["rateable"] is False
    response = client.post(
        f"/api/v1/opinions/{number}/rating", json={"satisfaction": "satisfied"}, headers=me
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "satisfaction"),
        ({"satisfaction": "great"}, "satisfaction"),
        ({"satisfaction": "satisfied", "comment": "长" * 501}, "comment"),
    ],
)
def test_bad_ratings_are_422(client, answered, body, field):
    response = client.post(
        f"/api/v1/opinions/{answered['number']}/rating", json=body, headers=answered["headers"]
    )
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_an_oversized_upload_is_413_in_our_shape(app, client, site, sign_in, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = client.post(
        "/api/v1/opinions",
        data={
            "station_code": site["station"].code,
            "content": "楼道堆物有火灾隐患",
            "photos": (io.BytesIO(b"x" * 8192), "big.png"),
        },
        headers=sign_in(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert _opinions() == []

"""台账 rooms beyond the matrix: downloads are safe, uploads sniffed, other districts see nothing."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.ledger.models import Activity, ActivityRecord
from app.ledger.records import add_record
from app.ledger.service import create_activity
from tests.ledger.conftest import past_reception

NOW = datetime(2026, 11, 26, 10)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"PE\x00\x00"
    + b"\x00" * 200
)


def _activity(lw, title="社区议事"):
    data = {"kind": "visit", "title": title, "date": "2026-06-01", "start": "09:00"}
    return create_activity(lw.station, data, user=lw.staff, deputy_ids=[lw.deputies[0].id], now=NOW)


def test_records_are_served_with_their_sniffed_type_sandboxed(app, lw, login):
    activity = _activity(lw)
    text = add_record(activity, io.BytesIO("<script>alert(1)</script> 会议纪要".encode()), "纪要.html.txt")
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    image = add_record(activity, io.BytesIO(buffer.getvalue()), "照片.png")
    db.session.flush()
    client = login(lw.staff)
    response = client.get(f"/console/ledger/{activity.id}/records/{text.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    response = client.get(f"/console/ledger/{activity.id}/records/{image.id}")
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    # the record under another activity's URL is not found
    other = _activity(lw, "另一活动")
    assert client.get(f"/console/ledger/{other.id}/records/{image.id}").status_code == 404


def test_other_district_sees_nothing(app, lw, login, make_user):
    activity = _activity(lw)
    add_record(activity, io.BytesIO(b"%PDF-1.4 test"), "a.pdf")
    record = db.session.scalar(select(ActivityRecord).where(ActivityRecord.activity_id == activity.id))
    district_b = make_user(Role.DISTRICT_ADMIN, lw.tree["district_b"])
    district_a = make_user(Role.DISTRICT_ADMIN, lw.tree["district_a"])
    db.session.flush()
    client = login(district_b)
    assert client.get(f"/console/ledger/{activity.id}").status_code == 404
    assert client.get(f"/console/ledger/{activity.id}/records/{record.id}").status_code == 404
    assert client.post(f"/console/ledger/{activity.id}/finalise").status_code == 404
    assert "社区议事" not in client.get("/console/ledger/").get_data(as_text=True)
    assert client.get(f"/console/ledger/archive/{lw.deputies[0].id}").status_code == 404
    other_station_staff = login(lw.other_staff)
    assert other_station_staff.get(f"/console/ledger/{activity.id}").status_code == 404
    # the station's own district sees it
    client = login(district_a)
    assert "社区议事" in client.get("/console/ledger/").get_data(as_text=True)


def test_upload_of_a_disguised_executable_is_refused(app, lw, login):
    activity = _activity(lw)
    client = login(lw.staff)
    response = client.post(
        f"/console/ledger/{activity.id}/records",
        data={"file": (io.BytesIO(EXE), "现场照片.jpg")},
        follow_redirects=True,
    )
    assert "不支持的文件类型" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ActivityRecord)) == 0


def test_finishing_a_reception_twice_gives_one_draft(app, lw, login):
    reception = past_reception(lw.station, lw.deputies[:2], day=datetime(2026, 11, 17).date())
    client = login(lw.staff)
    first = client.post(f"/console/ledger/from-reception/{reception.id}")
    second = client.post(f"/console/ledger/from-reception/{reception.id}")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).where(Activity.reception_id == reception.id)) == 1
    page = client.get(f"/console/receptions/{reception.id}").get_data(as_text=True)
    assert "查看台账" in page


def test_behind_list_groups_by_region(app, lw, login, make_user):
    admin = make_user(Role.CITY_ADMIN, lw.tree["city"])
    db.session.flush()
    body = login(admin).get("/console/ledger/behind?year=2026").get_data(as_text=True)
    assert lw.deputies[0].name in body and "外区代表" in body
    assert lw.tree["town_a"].name in body and lw.tree["town_b"].name in body

"""审计日志: admins read the entries of the staff they can see; the CSV opens in Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.notify.models import AuditEntry
from app.notify.service import audit
from tests.console_opinions.conftest import body


def seed(loop) -> None:
    opinion = loop.new(contact_name="王小明", contact_mobile="13912345678")
    audit(loop.users["station"], "reveal_contact", "opinion", opinion.tracking_no, "查看群众联系方式")
    audit(loop.users["foreign_station"], "reveal_contact", "opinion", "FOREIGN00001", "查看群众联系方式")
    audit(loop.users["town"], "opinion.accept", "opinion", opinion.tracking_no, "受理：note==1+1")
    old = audit(None, "opinion.overdue", "opinion", opinion.tracking_no, "系统督办")
    old.at = datetime.now(UTC) - timedelta(days=30)
    db.session.commit()


def test_admins_see_the_entries_of_their_staff(loop, as_user):
    seed(loop)
    page = body(as_user(loop.users["district"]).get("/console/opinions/audit/"))
    assert "查看群众联系方式" in page and "op_station" in page and "op_town" in page
    assert "FOREIGN00001" not in page and "op_station_b" not in page
    assert "系统督办" not in page  # the system's own entries: the city's auditors
    city = body(as_user(loop.users["city"]).get("/console/opinions/audit/"))
    assert "FOREIGN00001" in city and "系统督办" in city
    for who in ("station", "unit", "deputy"):
        assert as_user(loop.users[who]).get("/console/opinions/audit/").status_code == 403
        assert as_user(loop.users[who]).get("/console/opinions/audit/export.csv").status_code == 403


def test_filters(loop, as_user):
    seed(loop)
    client = as_user(loop.users["city"])
    page = body(client.get("/console/opinions/audit/?action=opinion.accept"))
    assert "op_town" in page and "FOREIGN00001" not in page
    page = body(client.get("/console/opinions/audit/?user=op_station_b"))
    assert "FOREIGN00001" in page and "op_town" not in page
    since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    assert "系统督办" not in body(client.get(f"/console/opinions/audit/?from={since}"))
    response = client.get("/console/opinions/audit/?from=2026-02-30")
    assert response.status_code == 200 and "日期格式" in body(response)


def test_csv_export_streams_utf8_with_bom_and_is_itself_audited(loop, as_user):
    seed(loop)
    response = as_user(loop.users["district"]).get("/console/opinions/audit/export.csv?action=reveal_contact")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "姓名", "操作", "对象类型", "对象", "说明"]
    assert [r[1] for r in rows[1:]] == ["staff:op_station"]
    assert rows[1][3] == "查看群众联系方式" and rows[1][4] == "留言"
    exported = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export_audit"))
    assert exported.actor == "staff:op_district" and "reveal_contact" in exported.detail


def test_csv_cells_never_run_as_formulas(loop, as_user):
    seed(loop)
    raw = (
        as_user(loop.users["city"]).get("/console/opinions/audit/export.csv?action=opinion.accept").get_data()
    )
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][6] == "受理：note==1+1"
    audit(loop.users["town"], "opinion.urge", "opinion", "X", '=HYPERLINK("http://evil")')
    db.session.commit()
    raw = as_user(loop.users["city"]).get("/console/opinions/audit/export.csv?action=opinion.urge").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][6].startswith("'=")

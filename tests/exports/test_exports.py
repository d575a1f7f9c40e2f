"""Excel exports: opinions (console job and CLI), the ledger, the ratings; files read back cell by cell."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import openpyxl
import pytest

from app.auth.models import Role
from app.exports.jobs import is_stale, job_of, run_job
from app.exports.models import ExportJob
from app.exports.opinions import COLUMNS as OPINION_COLUMNS
from app.extensions import db
from app.ledger.models import Activity, ActivityDeputy
from app.opinions.models import Opinion
from app.timeutil import LOCAL_TZ

PHONE = "13912345678"
MASKED = "139****5678"


def _opinion(station, n: int, **fields) -> Opinion:
    data = {
        "tracking_no": f"EX{station.id:04d}{n:06d}",
        "channel": "h5",
        "station": station,
        "content": f"第{n}条意见：小区路灯坏了",
        "contact_name": "王秀英",
        "contact_mobile": PHONE,
        "status": "pending",
        "created_at": datetime(2026, 3, 1, 10, tzinfo=LOCAL_TZ) + timedelta(hours=n),
    }
    data.update(fields)
    opinion = Opinion(**data)
    db.session.add(opinion)
    return opinion


@pytest.fixture
def two_stations(region_tree, make_station, make_deputy):
    tree = region_tree()
    own = make_station(tree["village_a"], name="甲村联络站")
    foreign = make_station(tree["village_b"], name="乙村联络站")
    deputy = make_deputy(tree["town_a"], name="张代表", station=own)
    for n in range(25):
        _opinion(own, n, deputy=deputy if n == 0 else None)
    for n in range(7):
        _opinion(foreign, n, contact_mobile="13700001111")
    db.session.flush()
    return tree, own, foreign


def read_sheet(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return book.worksheets[0]


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_console_opinions_export_is_scoped_masked_and_printable(client, login, make_user, two_stations):
    tree, own, _foreign = two_stations
    user = make_user(Role.DISTRICT_ADMIN, tree["district_a"])
    login(user)
    response = client.post("/console/exports/start/opinions", data={"sort": "oldest"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = client.get(job_url)
    assert page.status_code == 200 and "已完成" in page.get_data(as_text=True)
    progress = client.get(job_url + "/progress").get_json()
    assert progress["state"] == "done" and progress["done"] == progress["total"] == 25
    assert progress["percent"] == 100 and progress["download_url"].endswith("/download")
    download = client.get(progress["download_url"])
    assert download.status_code == 200
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    sheet = read_sheet(download.data)
    rows = rows_of(sheet)
    assert rows[0] == tuple(c.header for c in OPINION_COLUMNS)
    assert len(rows) == 1 + 25  # one header row, one row per opinion of the scope only
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["跟踪号"] == f"EX{own.id:04d}000000"
    assert first["家站点"] == "甲村联络站"
    assert first["接待代表"] == "张代表"
    assert first["联系电话"] == MASKED and first["联系人"] == "王**"
    assert first["办理状态"] == "待受理"
    assert first["提交时间"] == datetime(2026, 3, 1, 10, 0)  # local time, as printed
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm"
    body = download.get_data()
    assert PHONE.encode() not in body and b"13700001111" not in body
    all_phones = {r[6] for r in rows[1:]}
    assert all_phones == {MASKED}
    # Printed as staff file it: frozen header repeated on every A4 landscape page, fitted to width.
    assert sheet.freeze_panes == "A2"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    # One page wide (fitToWidth 1 is the XML default, left out), as many pages down as needed.
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert "群众意见建议办理情况表" in sheet.oddHeader.center.text
    assert sheet.column_dimensions["H"].width > 40  # the opinion text column


def test_inbox_filters_apply(client, login, make_user, two_stations):
    _tree, own, _foreign = two_stations
    db.session.execute(
        Opinion.__table__.update().where(Opinion.tracking_no.like("EX%000003")).values(status="closed")
    )
    login(make_user(Role.STATION_STAFF, own))
    response = client.post("/console/exports/start/opinions", data={"status": "closed"})
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    rows = rows_of(read_sheet(client.get(f"/console/exports/{job_id}/download").data))
    assert [r[0] for r in rows[1:]] == [f"EX{own.id:04d}000003"]


def test_a_job_is_only_its_owners(client, login, make_user, two_stations):
    tree, own, _foreign = two_stations
    owner = make_user(Role.STATION_STAFF, own)
    login(owner)
    job_url = client.post("/console/exports/start/opinions", data={}).headers["Location"]
    client.post("/console/logout")
    login(make_user(Role.DISTRICT_ADMIN, tree["district_a"]))
    for suffix in ("", "/progress", "/download"):
        assert client.get(job_url + suffix).status_code == 404


def test_a_job_whose_worker_died_is_reported_failed(app, make_user, two_stations):
    _tree, own, _foreign = two_stations
    owner = make_user(Role.STATION_STAFF, own)
    job = ExportJob(id="s" * 32, owner_id=owner.id, kind="opinions", params={}, state="running", total=9)
    job.heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    db.session.add(job)
    db.session.flush()
    assert is_stale(job)
    found = job_of(job.id, owner)
    assert found.state == "failed" and "中断" in found.message
    # Running it again does nothing: only queued jobs start.
    run_job(app, job.id)
    assert db.session.get(ExportJob, job.id).state == "failed"


def test_cli_exports_opinions(app, runner, tmp_path, two_stations):
    tree, _own, _foreign = two_stations
    db.session.commit()
    out = tmp_path / "opinions.xlsx"
    result = runner.invoke(
        args=[
            "export",
            "opinions",
            "--out",
            str(out),
            "--region",
            tree["district_a"].code,
            "--from",
            "2026-03-01",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(openpyxl.load_workbook(out).worksheets[0])
    assert rows[0][0] == "跟踪号" and len(rows) == 26
    assert {r[6] for r in rows[1:]} == {MASKED}
    # The period filter: nothing after the last day.
    result = runner.invoke(args=["export", "opinions", "--out", str(out), "--to", "2026-02-28"])
    assert result.exit_code == 0, result.output
    assert len(rows_of(openpyxl.load_workbook(out).worksheets[0])) == 1
    result = runner.invoke(args=["export", "opinions", "--out", str(out), "--region", "NOSUCH"])
    assert result.exit_code != 0 and "NOSUCH" in result.output


def test_cli_exports_the_ledger(app, runner, tmp_path, region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"], name="台账联络站")
    deputies = [make_deputy(tree["town_a"], name=n, station=station) for n in ("赵代表", "钱代表")]
    for month, status in ((2, "final"), (5, "final"), (7, "draft")):
        activity = Activity(
            station=station,
            kind="study",
            status=status,
            started_at=datetime.combine(date(2026, month, 10), time(14, 30)),
            title=f"{month}月集中学习",
            content="学习代表法",
            residents_received=3,
            problems_solved=1,
        )
        activity.deputies = [
            ActivityDeputy(deputy=deputies[0], attendance="attended"),
            ActivityDeputy(deputy=deputies[1], attendance="excused"),
        ]
        db.session.add(activity)
    db.session.commit()
    out = tmp_path / "ledger.xlsx"
    result = runner.invoke(
        args=["export", "ledger", "--out", str(out), "--station", station.code, "--year", "2026"]
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = rows_of(sheet)
    assert rows[0][:3] == ("活动时间", "家站点", "活动类型")
    assert len(rows) == 3  # the two registered activities; the draft is not in the 台账
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["活动时间"] == datetime(2026, 2, 10, 14, 30)
    assert record["活动类型"] == "履职学习" and record["出席代表"] == "赵代表"
    assert record["缺席、请假代表"] == "钱代表（请假）"
    assert record["接待群众人次"] == 3 and record["推动解决问题数"] == 1
    assert "台账联络站代表活动台账（2026年度）" in sheet.oddHeader.center.text


def test_cli_exports_ratings(app, runner, tmp_path, region_tree, make_station):
    tree = region_tree()
    make_station(tree["village_a"], name="参评联络站")
    make_station(tree["district_a"], kind="home", name="A区人大代表之家")  # not rated
    db.session.commit()
    out = tmp_path / "ratings.xlsx"
    result = runner.invoke(args=["export", "ratings", "--out", str(out), "--year", "2026"])
    assert result.exit_code == 0, result.output
    rows = rows_of(openpyxl.load_workbook(out).worksheets[0])
    assert rows[0][:5] == ("市(县)区", "镇(街道)", "家站点", "站点代码", "类型")
    names = [r[2] for r in rows[1:]]
    assert "参评联络站" in names and "A区人大代表之家" not in names
    row = rows[1 + names.index("参评联络站")]
    assert row[0] == "A区" and row[1] == "A镇" and row[11] == "未达标" and row[12] == "自评中"


def test_cli_exports_the_deputy_archive(app, runner, tmp_path, region_tree, make_station, make_deputy):
    tree = region_tree()
    station = make_station(tree["village_a"], name="档案联络站")
    zhao = make_deputy(tree["town_a"], name="赵档案", station=station)
    make_deputy(tree["town_b"], name="孙外区")
    activity = Activity(
        station=station,
        kind="reception",
        status="final",
        started_at=datetime(2026, 4, 21, 9),
        title="4月联系服务群众日",
        residents_received=6,
    )
    activity.deputies = [ActivityDeputy(deputy=zhao, attendance="attended")]
    db.session.add(activity)
    db.session.commit()
    out = tmp_path / "archive.xlsx"
    result = runner.invoke(
        args=["export", "archive", "--out", str(out), "--year", "2026", "--region", tree["district_a"].code]
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(openpyxl.load_workbook(out).worksheets[0])
    assert rows[0][0] == "姓名" and len(rows) == 2  # the other district's deputy is not in it
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["姓名"] == "赵档案" and record["编入家站点"] == "档案联络站"
    assert record["接待选民（次）"] == 1 and record["接待群众（人次）"] == 6
    assert record["年度要求"] == "未完成"
    assert "参加集中履职学习：还差 2 次" in record["未完成的要求"]


def test_console_ledger_export_of_a_station_in_scope(client, login, make_user, region_tree, make_station):
    tree = region_tree()
    own = make_station(tree["village_a"], name="本区联络站")
    foreign = make_station(tree["village_b"], name="外区联络站")
    for station in (own, foreign):
        db.session.add(
            Activity(
                station=station,
                kind="publicity",
                status="final",
                started_at=datetime(2026, 6, 1, 9),
                title=f"{station.name}宪法宣传",
            )
        )
    db.session.flush()
    login(make_user(Role.DISTRICT_ADMIN, tree["district_a"]))
    page = client.get("/console/exports/").get_data(as_text=True)
    assert "本区联络站" in page and "外区联络站" not in page
    # A foreign station is not found; a wrong year is explained.
    assert (
        client.post("/console/exports/start/ledger", data={"year": "2026", "station": foreign.id}).status_code
        == 404
    )
    response = client.post("/console/exports/start/ledger", data={"year": "二〇二六"}, follow_redirects=True)
    assert "请填写年度" in response.get_data(as_text=True)
    response = client.post("/console/exports/start/ledger", data={"year": "2026"})
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    rows = rows_of(read_sheet(client.get(f"/console/exports/{job_id}/download").data))
    assert [r[4] for r in rows[1:]] == ["本区联络站宪法宣传"]  # the district's whole ledger, its own only

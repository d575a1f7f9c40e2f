"""统一标识牌 in the console: preview and downloads per station, the batch job and its ZIP."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from app.auth.models import Role
from app.console import plaque_jobs
from app.exports.jobs import export_folder, file_of, purge_expired, run_job
from app.exports.models import ExportJob
from app.extensions import db
from app.models_base import utcnow
from app.plaques.service import plaque_size
from app.stations.service import update_station
from tests.auth.world import World
from tests.conftest import make_test_app
from tests.factories import PASSWORD


def decode(data: bytes) -> list[str]:
    with Image.open(io.BytesIO(data)) as image:
        return [result.text for result in zxingcpp.read_barcodes(image)]


def wait_for(client, job_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        response = client.get(f"/console/plaques/batch/{job_id}", headers={"Accept": "application/json"})
        assert response.status_code == 200
        state = response.get_json()
        seen.append(state["percent"])
        if state["state"] in ("done", "failed"):
            state["seen"] = seen
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {seen[-5:]}")


def test_station_page_previews_and_offers_downloads(world: World, login_as):
    station = world.own.station
    client = login_as(world.actors[Role.STATION_STAFF])
    page = client.get(f"/console/stations/{station.id}").get_data(as_text=True)
    assert f'src="/console/stations/{station.id}/plaque/preview.png"' in page
    assert (
        f"/console/stations/{station.id}/plaque.png" in page
        and f"/console/stations/{station.id}/plaque.pdf" in page
    )

    preview = client.get(f"/console/stations/{station.id}/plaque/preview.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.format == "PNG" and image.size == plaque_size(40)
    assert decode(preview.data) == [f"http://jzd.test/s/{station.code}"]


def test_downloads_are_print_files(world: World, login_as):
    station = world.own.station
    client = login_as(world.actors[Role.DEPUTY])  # scoped like the station: its deputy may too
    png = client.get(f"/console/stations/{station.id}/plaque.png?dpi=60")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.size == plaque_size(60) and round(image.info["dpi"][0]) == 60
    assert decode(png.data) == [f"http://jzd.test/s/{station.code}"]
    pdf = client.get(f"/console/stations/{station.id}/plaque.pdf?dpi=30")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    for bad in ("dpi=600", "dpi=abc", "dpi=10"):
        assert client.get(f"/console/stations/{station.id}/plaque.png?{bad}").status_code == 404
    assert client.get(f"/console/stations/{station.id}/plaque.gif").status_code == 404
    assert client.get(f"/console/stations/{world.sides['b'].station.id}/plaque.png?dpi=30").status_code == 404


def test_default_download_is_300_dpi(world: World, login_as):
    client = login_as(world.actors[Role.STATION_STAFF])
    png = client.get(f"/console/stations/{world.own.station.id}/plaque.png")
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.size == (7087, 4724) and round(image.info["dpi"][0]) == 300


def test_batch_progress_and_zip(world: World, login_as, make_station, app):
    a = world.own
    home = make_station(a.town, name="A镇人大代表之家")
    closed = make_station(a.town, name="A镇撤销联系点", kind="point", status="closed")
    db.session.commit()
    owner = world.actors[Role.TOWN_ADMIN]
    client = login_as(owner)
    page = client.get("/console/plaques/").get_data(as_text=True)
    assert "<strong>2</strong> 个运行中的家站点" in page and "开始生成" in page

    response = client.post("/console/plaques/batch", data={"dpi": "30"})
    assert response.status_code == 302 and "?job=" in response.headers["Location"]
    job_id = response.headers["Location"].split("job=")[1]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="plaque-progress"' in page and "console/jobs.js" in page
    assert 'data-job-prefix="plaque"' in page

    # The job is a row of the shared job table, not a process's memory.
    job = db.session.get(ExportJob, job_id)
    assert job.kind == "plaques" and job.owner_id == owner.id and job.params["dpi"] == 30
    state = wait_for(client, job_id)
    assert state["state"] == "done" and state["percent"] == 100, state
    assert state["done"] == state["total"] == 2
    assert state["seen"] == sorted(state["seen"])  # progress never goes backwards
    assert state["download_url"] == f"/console/plaques/batch/{job_id}/download"

    # Only the owner can poll or download, whatever their role.
    other = login_as(world.actors[Role.CITY_ADMIN])
    assert other.get(f"/console/plaques/batch/{job_id}").status_code == 404
    assert other.get(f"/console/plaques/batch/{job_id}/download").status_code == 404
    # Nor is a plaque job an export of the export room, even for its owner.
    assert client.get(f"/console/exports/{job_id}/download").status_code == 404

    path = file_of(job)
    assert path.is_file() and path.suffix == ".zip"
    download = client.get(state["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert not path.exists()  # cleaned as soon as the download starts
    assert db.session.get(ExportJob, job_id) is None
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = sorted(archive.namelist())
        expected = sorted(f"{s.code}.{ext}" for s in (a.station, home) for ext in ("png", "pdf"))
        assert names == expected  # the closed one and other districts are not in it
        assert closed.code not in "".join(names)
        assert decode(archive.read(f"{home.code}.png")) == [f"http://jzd.test/s/{home.code}"]
        assert archive.read(f"{home.code}.pdf").startswith(b"%PDF")
    download.close()
    assert client.get(state["download_url"]).status_code == 404
    assert client.get(f"/console/plaques/batch/{job_id}").status_code == 404
    assert not list(export_folder(app).glob(f"{job_id}*"))  # no scratch files left either


def test_one_running_job_per_user(world: World, login_as, monkeypatch, app):
    # Start the job but leave it queued, as if the worker's thread had not got to it yet.
    monkeypatch.setattr("app.console.plaques.launch", lambda _app, _job_id: None)
    client = login_as(world.actors[Role.STATION_STAFF])
    first = client.post("/console/plaques/batch", data={"dpi": "30"}).headers["Location"]
    job_id = first.split("job=")[1]
    running = client.get(f"/console/plaques/batch/{job_id}").get_json()
    assert running["state"] == "queued" and running["percent"] == 0
    again = client.post("/console/plaques/batch", data={"dpi": "30"}, follow_redirects=False)
    assert again.headers["Location"] == first
    page = client.get(first).get_data(as_text=True)
    assert "您上一批标识牌还在生成" in page and ">开始生成</button>" not in page
    assert 'id="plaque-job"' in client.get("/console/plaques/").get_data(as_text=True)  # found again
    run_job(app, job_id)
    assert wait_for(client, job_id)["state"] == "done"


def test_batch_failure_is_reported(world: World, login_as, app, tmp_path):
    font = app.config["PLAQUE_FONT"]
    app.config["PLAQUE_FONT"] = str(tmp_path / "missing.ttc")
    try:
        client = login_as(world.actors[Role.STATION_STAFF])
        location = client.post("/console/plaques/batch", data={"dpi": "30"}).headers["Location"]
        state = wait_for(client, location.split("job=")[1])
    finally:
        app.config["PLAQUE_FONT"] = font
    assert state["state"] == "failed" and "找不到标识牌字体" in state["message"]
    assert "download_url" not in state
    page = client.get(location).get_data(as_text=True)
    assert ">开始生成</button>" in page  # a failed job does not block the next one


def test_a_job_whose_worker_died_is_reported_failed(world: World, login_as):
    owner = world.actors[Role.STATION_STAFF]
    job = ExportJob(id="d" * 32, owner_id=owner.id, kind="plaques", params={"dpi": 30}, state="running")
    job.total, job.heartbeat_at = 3, utcnow() - timedelta(minutes=10)
    db.session.add(job)
    db.session.commit()
    client = login_as(owner)
    state = client.get(f"/console/plaques/batch/{job.id}").get_json()
    assert state["state"] == "failed" and "生成中断" in state["message"]
    # A dead job does not count as running: a new batch starts.
    location = client.post("/console/plaques/batch", data={"dpi": "30"}).headers["Location"]
    assert job.id not in location and wait_for(client, location.split("job=")[1])["state"] == "done"


def test_bad_dpi_and_empty_scope(world: World, login_as):
    client = login_as(world.actors[Role.STATION_STAFF])
    page = client.post("/console/plaques/batch", data={"dpi": "9000"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "分辨率应在 30 到 300 之间" in page
    station = world.own.station
    update_station(station, {"status": "suspended", "name": station.name, "address": station.address})
    db.session.commit()
    page = client.post("/console/plaques/batch", data={"dpi": "30"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "没有运行中的家站点" in page


def test_finished_jobs_expire_after_an_hour(app, world: World):
    owner = world.actors[Role.STATION_STAFF]
    long_ago = utcnow() - timedelta(hours=plaque_jobs.JOB_TTL_HOURS, minutes=5)
    jobs = {
        "stale": dict(state="done", finished_at=long_ago),
        "fresh": dict(state="done", finished_at=utcnow()),
        # Started long ago but still beating: a big batch is never purged while it runs.
        "alive": dict(state="running", heartbeat_at=utcnow()),
    }
    folder = export_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    for name, fields in jobs.items():
        job_id = name.ljust(32, "0")
        db.session.add(ExportJob(id=job_id, owner_id=owner.id, kind="plaques", created_at=long_ago, **fields))
        (folder / f"{job_id}.zip").write_bytes(b"PK")
        (folder / f"{job_id}.files").mkdir(exist_ok=True)
    db.session.flush()
    assert purge_expired(app) == 1
    assert db.session.get(ExportJob, "stale".ljust(32, "0")) is None
    assert not list(folder.glob("stale*"))
    for name in ("fresh", "alive"):
        assert db.session.get(ExportJob, name.ljust(32, "0")) is not None
        assert (folder / f"{name.ljust(32, '0')}.zip").is_file()
        (folder / f"{name.ljust(32, '0')}.zip").unlink()
        (folder / f"{name.ljust(32, '0')}.files").rmdir()


def test_the_progress_script_is_served_locally(client):
    response = client.get("/static/console/jobs.js")
    assert response.status_code == 200 and b"data-job-prefix" in response.data
    # One script serves both progress pages.
    assert client.get("/static/console/plaques.js").status_code == 404
    assert client.get("/static/console/exports.js").status_code == 404


@pytest.mark.real_commits
def test_a_job_is_polled_and_downloaded_through_another_worker(pg_databases, tmp_path, monkeypatch):
    """Two app instances on one database and export folder, as two gunicorn workers are.

    The first starts the job and renders it in its own thread; the second, which never saw the
    job start, reports its progress and hands over the ZIP.
    """
    from flask_migrate import upgrade

    from app.auth.service import create_user
    from app.regions.service import create_region
    from app.stations.service import create_station

    url = pg_databases.create("plaquejobs")
    config = {"EXPORT_FOLDER": str(tmp_path / "exports"), "EXPORT_INLINE": False}
    first, second = make_test_app(url, **config), make_test_app(url, **config)
    with first.app_context():
        upgrade()
        city = create_region(code="W0", name="测试市", parent=None)
        district = create_region(code="W01", name="甲区", parent=city)
        town = create_region(code="W0101", name="甲镇", parent=district)
        stations = [
            create_station(
                region=town, kind="home", data={"name": f"甲镇人大代表之家{n}", "address": "甲路1号"}
            )
            for n in range(2)
        ]
        codes = sorted(station.code for station in stations)
        create_user(
            None,
            {
                "username": "plaque_worker",
                "display_name": "测试用户",
                "role": "town_admin",
                "password": PASSWORD,
                "region_id": str(town.id),
            },
        )
        db.session.commit()
        db.session.remove()

    gate = threading.Event()
    real = plaque_jobs.make_plaques

    def held(*args, **kwargs):
        assert gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(plaque_jobs, "make_plaques", held)
    clients = []
    for application in (first, second):
        client = application.test_client()
        response = client.post("/console/login", data={"username": "plaque_worker", "password": PASSWORD})
        assert response.status_code in (302, 303)
        clients.append(client)
    try:
        location = clients[0].post("/console/plaques/batch", data={"dpi": "30"}).headers["Location"]
        job_id = location.split("job=")[1]
        # The second worker knows the job from the database while the first is still on it.
        waiting = clients[1].get(f"/console/plaques/batch/{job_id}").get_json()
        assert waiting["state"] in ("queued", "running") and waiting["total"] == 2 and waiting["done"] == 0
        assert 'id="plaque-job"' in clients[1].get("/console/plaques/").get_data(as_text=True)
        gate.set()
        state = wait_for(clients[1], job_id)
        assert state["state"] == "done" and state["done"] == 2, state
        download = clients[1].get(state["download_url"])
        assert download.status_code == 200 and download.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
            assert sorted(archive.namelist()) == sorted(f"{c}.{ext}" for c in codes for ext in ("png", "pdf"))
        download.close()
        # Handed over once: the first worker no longer has it either.
        assert clients[0].get(state["download_url"]).status_code == 404
        assert clients[0].get(f"/console/plaques/batch/{job_id}").status_code == 404
    finally:
        gate.set()
        for application in (first, second):
            with application.app_context():
                db.session.remove()
                db.engine.dispose()

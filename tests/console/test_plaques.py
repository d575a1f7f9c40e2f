"""统一标识牌 in the console: preview and downloads per station, the batch job and its ZIP."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile

import pytest
import zxingcpp
from PIL import Image

from app.auth.models import Role
from app.console import plaque_jobs
from app.extensions import db
from app.plaques.service import plaque_size
from app.stations.service import update_station
from tests.auth.world import World


@pytest.fixture(autouse=True)
def no_leftover_jobs():
    """User ids repeat between rolled-back tests: never let one test see another's job."""
    plaque_jobs.clear_registry()
    yield
    plaque_jobs.clear_registry()


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
    assert 'id="plaque-progress"' in page and "console/plaques.js" in page

    state = wait_for(client, job_id)
    assert state["state"] == "done" and state["percent"] == 100, state
    assert state["done"] == state["total"] == 2
    assert state["seen"] == sorted(state["seen"])  # progress never goes backwards
    assert state["download_url"] == f"/console/plaques/batch/{job_id}/download"

    # Only the owner can poll or download, whatever their role.
    other = login_as(world.actors[Role.CITY_ADMIN])
    assert other.get(f"/console/plaques/batch/{job_id}").status_code == 404
    assert other.get(f"/console/plaques/batch/{job_id}/download").status_code == 404

    folder = plaque_jobs.job_of(job_id, owner.id).folder
    download = client.get(state["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert not folder.exists()  # cleaned as soon as the download starts
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


def test_one_running_job_per_user(world: World, login_as, monkeypatch):
    gate = threading.Event()
    real = plaque_jobs.make_plaques

    def slow(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(plaque_jobs, "make_plaques", slow)
    client = login_as(world.actors[Role.STATION_STAFF])
    first = client.post("/console/plaques/batch", data={"dpi": "30"}).headers["Location"]
    running = client.get(f"/console/plaques/batch/{first.split('job=')[1]}").get_json()
    assert running["state"] in ("queued", "running") and running["percent"] == 0
    again = client.post("/console/plaques/batch", data={"dpi": "30"}, follow_redirects=False)
    assert again.headers["Location"] == first
    page = client.get(first).get_data(as_text=True)
    assert "您上一批标识牌还在生成" in page and ">开始生成</button>" not in page
    gate.set()
    assert wait_for(client, first.split("job=")[1])["state"] == "done"


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


def test_finished_jobs_expire_after_an_hour(app, tmp_path):
    stale = plaque_jobs.PlaqueJob(id="stale", owner_id=1, total=0, dpi=30, folder=tmp_path / "stale")
    stale.folder.mkdir()
    stale.state, stale.finished = "done", time.time() - plaque_jobs.JOB_TTL_SECONDS - 5
    fresh = plaque_jobs.PlaqueJob(id="fresh", owner_id=1, total=0, dpi=30, folder=tmp_path / "fresh")
    fresh.state, fresh.finished = "done", time.time()
    plaque_jobs._jobs.update({"stale": stale, "fresh": fresh})
    orphan = plaque_jobs._jobs_root(app) / "orphan-from-a-restart"
    orphan.mkdir(parents=True, exist_ok=True)
    old = time.time() - plaque_jobs.JOB_TTL_SECONDS - 5
    os.utime(orphan, (old, old))
    plaque_jobs.purge_expired(app)
    assert plaque_jobs.job_of("stale", 1) is None and not stale.folder.exists()
    assert plaque_jobs.job_of("fresh", 1) is fresh
    assert not orphan.exists()


def test_the_progress_script_is_served_locally(client):
    response = client.get("/static/console/plaques.js")
    assert response.status_code == 200 and b"plaque-progress" in response.data

"""Batch plaques for the console: a background job kind of the shared job runner (app/exports/jobs.py).

A job renders the plaque of each station listed when it was started (PNG and PDF), zips them
into ``<EXPORT_FOLDER>/<job id>.zip`` and waits for its owner to download the ZIP once. The
job is a row of ``export_jobs`` (kind ``plaques``), so the progress poll and the download work
from any gunicorn worker, and a job whose worker died shows as failed. At most one running
job per user; a ZIP is kept an hour after its job finished, or until it is downloaded.
"""

from __future__ import annotations

import threading
import zipfile
from dataclasses import dataclass

from sqlalchemy import select

from app.auth.models import StaffUser
from app.console.access import STATION_WORKERS
from app.exports.jobs import JobKind, JobRun, Prepared, register_kind
from app.extensions import db
from app.plaques.service import make_plaques, plaque_font
from app.stations.models import Station

KIND = "plaques"
FAMILY = "plaques"
JOB_TTL_HOURS = 1  # a finished ZIP is kept this long (unless downloaded before)
MAX_PARALLEL_RENDERS = 2  # per worker process: a 300 dpi plaque is ~100 MB of pixels
WAIT_BEAT_SECONDS = 20  # a job waiting for a render slot still beats (it is not dead)

_renders = threading.BoundedSemaphore(MAX_PARALLEL_RENDERS)


@dataclass(frozen=True)
class PlaqueSubject:
    """What a plaque shows of a station, copied out of the database session."""

    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, station: Station) -> PlaqueSubject:
        return cls(station.code, station.name, station.kind)

    def as_station(self) -> Station:
        # A transient object: the renderer needs only these fields, never the database.
        return Station(code=self.code, name=self.name, kind=self.kind)


def job_params(stations: list[Station], dpi: int) -> dict:
    """The job's parameters: the stations (in order) the user saw in scope, and the resolution."""
    return {"dpi": dpi, "station_ids": [station.id for station in stations]}


def _prepare(_user: StaffUser | None, params: dict) -> Prepared:
    return Prepared(total=len(params.get("station_ids") or []), filename="")


def _subjects(ids: list[int]) -> list[PlaqueSubject]:
    found = {s.id: s for s in db.session.scalars(select(Station).where(Station.id.in_(ids)))}
    return [PlaqueSubject.of(found[i]) for i in ids if i in found]


def _write(run: JobRun) -> str:
    params = run.params
    subjects = _subjects([int(i) for i in params.get("station_ids") or []])
    run.job.total = len(subjects)
    run.beat()
    while not _renders.acquire(timeout=WAIT_BEAT_SECONDS):
        run.beat()
    try:
        font = plaque_font(run.app.config)
        written = make_plaques(
            [subject.as_station() for subject in subjects],
            run.scratch,
            base_url=run.app.config["PUBLIC_BASE_URL"],
            font=font,
            dpi=int(params.get("dpi") or 300),
            on_done=lambda _station: run.advance(),
        )
    finally:
        _renders.release()
    # PNG and PDF are compressed already: store them, do not deflate again.
    with zipfile.ZipFile(run.path, "w", zipfile.ZIP_STORED) as archive:
        for path in written:
            archive.write(path, path.name)
    return f"已生成 {len(subjects)} 块标识牌（PNG 与 PDF）。"


register_kind(
    JobKind(
        KIND,
        "统一标识牌",
        frozenset(STATION_WORKERS),
        _prepare,
        _write,
        family=FAMILY,
        suffix=".zip",
        mimetype="application/zip",
        max_active=1,
        keep_hours=JOB_TTL_HOURS,
        once=True,
        noun="生成",
        state_labels={"running": "生成中"},
    )
)

"""Batch plaque jobs for the console: a background thread per job, progress in an in-process registry.

A job renders every plaque of a list of stations (PNG and PDF), zips them under
``instance/plaque_jobs/<job id>/`` and waits for its owner to download the ZIP. The registry
lives in this process only: with several workers, the progress poll may reach another
worker that never heard of the job. A multi-worker deployment needs the job on the
scheduler or a queue, with progress in Redis or the database.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from app.errors import DomainError
from app.plaques.service import make_plaques, plaque_font
from app.stations.models import Station

log = logging.getLogger(__name__)

JOB_TTL_SECONDS = 3600  # files and progress kept this long after a job finishes
MAX_PARALLEL_RENDERS = 2  # a 300 dpi plaque is ~100 MB of pixels: render few at once
JOBS_DIR = "plaque_jobs"


@dataclass(frozen=True)
class PlaqueSubject:
    """What a plaque shows of a station, copied out of the request's database session."""

    code: str
    name: str
    kind: str

    @classmethod
    def of(cls, station: Station) -> PlaqueSubject:
        return cls(station.code, station.name, station.kind)

    def as_station(self) -> Station:
        # A transient object: the renderer needs only these fields, never the database.
        return Station(code=self.code, name=self.name, kind=self.kind)


@dataclass
class PlaqueJob:
    id: str
    owner_id: int
    total: int
    dpi: int
    folder: Path
    done: int = 0
    state: str = "queued"  # queued → running → done | failed
    message: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def zip_path(self) -> Path:
        return self.folder / "plaques.zip"

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total:
            return 0
        # 100 only once the ZIP is written, not when the last plaque is.
        return min(99, self.done * 100 // self.total)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "message": self.message,
        }


_jobs: dict[str, PlaqueJob] = {}
_lock = threading.Lock()
_renders = threading.BoundedSemaphore(MAX_PARALLEL_RENDERS)


def _jobs_root(app: Flask) -> Path:
    return Path(app.instance_path) / JOBS_DIR


def purge_expired(app: Flask, now: float | None = None) -> None:
    """Forget jobs finished over an hour ago and delete their files, and any folder left by a restart."""
    now = time.time() if now is None else now
    with _lock:
        expired = [
            job for job in _jobs.values() if job.finished is not None and now - job.finished > JOB_TTL_SECONDS
        ]
        for job in expired:
            del _jobs[job.id]
        known = {job.folder for job in _jobs.values()}
    for job in expired:
        shutil.rmtree(job.folder, ignore_errors=True)
    root = _jobs_root(app)
    if root.is_dir():
        for folder in root.iterdir():
            if folder not in known and now - folder.stat().st_mtime > JOB_TTL_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def active_job_of(owner_id: int) -> PlaqueJob | None:
    with _lock:
        for job in _jobs.values():
            if job.owner_id == owner_id and job.state in ("queued", "running"):
                return job
    return None


def job_of(job_id: str, owner_id: int) -> PlaqueJob | None:
    """The job if it exists and belongs to ``owner_id``; nobody else learns it exists."""
    with _lock:
        job = _jobs.get(str(job_id))
    return job if job is not None and job.owner_id == owner_id else None


def take_download(job_id: str, owner_id: int) -> PlaqueJob | None:
    """Hand a finished job's ZIP to its owner once; the job is forgotten (files go after sending)."""
    with _lock:
        job = _jobs.get(str(job_id))
        if job is None or job.owner_id != owner_id or job.state != "done":
            return None
        del _jobs[job.id]
    return job


def discard(job: PlaqueJob) -> None:
    shutil.rmtree(job.folder, ignore_errors=True)


def start_job(app: Flask, owner_id: int, stations: list[Station], dpi: int) -> PlaqueJob:
    """Register a job for these stations and start rendering it in a background thread."""
    purge_expired(app)
    running = active_job_of(owner_id)
    if running is not None:
        return running
    job_id = secrets.token_urlsafe(16)
    job = PlaqueJob(
        id=job_id,
        owner_id=owner_id,
        total=len(stations),
        dpi=dpi,
        folder=_jobs_root(app) / job_id,
    )
    subjects = [PlaqueSubject.of(station) for station in stations]
    with _lock:
        _jobs[job_id] = job
    name = f"plaques-{job_id[:6]}"
    threading.Thread(target=_run, args=(app, job, subjects), name=name, daemon=True).start()
    return job


def _run(app: Flask, job: PlaqueJob, subjects: list[PlaqueSubject]) -> None:
    with app.app_context(), _renders:
        job.state = "running"
        try:
            font = plaque_font(app.config)
            files = job.folder / "files"

            def advance(_station: Station) -> None:
                job.done += 1

            written = make_plaques(
                [subject.as_station() for subject in subjects],
                files,
                base_url=app.config["PUBLIC_BASE_URL"],
                font=font,
                dpi=job.dpi,
                on_done=advance,
            )
            # PNG and PDF are compressed already: store them, do not deflate again.
            with zipfile.ZipFile(job.zip_path, "w", zipfile.ZIP_STORED) as archive:
                for path in written:
                    archive.write(path, path.name)
            shutil.rmtree(files, ignore_errors=True)
            job.state = "done"
            job.message = f"已生成 {job.total} 块标识牌（PNG 与 PDF）。"
        except DomainError as exc:
            job.state, job.message = "failed", exc.message
        except Exception:
            log.exception("plaque job %s failed", job.id)
            job.state, job.message = "failed", "生成标识牌时出错，请稍后重试或联系管理员。"
        finally:
            job.finished = time.time()
            if job.state == "failed":
                shutil.rmtree(job.folder / "files", ignore_errors=True)


def clear_registry() -> None:
    """Forget every job (tests)."""
    with _lock:
        _jobs.clear()

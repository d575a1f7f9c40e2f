"""Background jobs: a job row in the database, a worker thread writing the file, any worker serving it.

One runner for every kind of job that ends in a file for its owner: the Excel exports of
the console room ``/console/exports`` and the plaque ZIPs of ``/console/plaques``. A kind
(``JobKind``) says who may start it, how to check the request (``prepare``, in the request)
and how to write the file (``write``, in the background).

``start_job`` records the job (the view commits), ``launch`` runs it in a thread of the
worker that took the request (or inline, for tests and the CLI). The thread commits its
progress with every batch, so the progress poll and the download work from any gunicorn
worker. A job whose heartbeat stops (its worker was killed) is reported as failed rather
than left running forever. Files are kept for their kind's hours and then purged.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, select

from app.auth.models import Role, StaffUser
from app.errors import DomainError, Forbidden, NotFound
from app.exports.models import ExportJob, ExportState
from app.exports.xlsx import WorkbookSource, write_workbook
from app.extensions import db
from app.models_base import utcnow

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=3)  # no heartbeat this long: the writing worker is gone
KEEP_HOURS = 24
MAX_ACTIVE_PER_USER = 2
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Prepared:
    """What the request learns before the job starts: how much work, and the download's name."""

    total: int
    filename: str


@dataclass
class JobRun:
    """What a kind's writer gets in the background thread: its job, the file to write, progress."""

    app: Flask
    job: ExportJob
    user: StaffUser | None
    path: Path  # write here; the runner renames it to the final file once ``write`` returns
    scratch: Path  # a folder of the job's own, for intermediate files (removed afterwards)

    @property
    def params(self) -> dict:
        return dict(self.job.params or {})

    def beat(self) -> None:
        """Show the job is alive (commit the heartbeat) without progress, e.g. while waiting."""
        self.job.heartbeat_at = utcnow()
        db.session.commit()

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done and commit, so every worker's poll sees it."""
        self.job.done += count
        self.beat()


@dataclass(frozen=True)
class JobKind:
    """One kind of background job; ``family`` says which console room lists and serves it."""

    kind: str
    label: str
    roles: frozenset[Role]
    prepare: Callable[[StaffUser | None, dict], Prepared]
    write: Callable[[JobRun], str]  # writes ``run.path``, returns the message shown when done
    family: str = "export"
    suffix: str = ".xlsx"
    mimetype: str = XLSX
    max_active: int = MAX_ACTIVE_PER_USER
    keep_hours: float | None = None  # None: EXPORT_KEEP_HOURS
    once: bool = False  # the file is handed over once; the job and file go with the download
    noun: str = "导出"  # what the job does, in its messages: 导出时出错, 导出中断
    state_labels: dict[str, str] = field(default_factory=dict)  # e.g. running → 生成中


JOB_KINDS: dict[str, JobKind] = {}

# Excel exports by kind → (label, roles that may start it, builder(user, params) → WorkbookSource);
# the CLI writes these directly.
Builder = Callable[[StaffUser | None, dict], WorkbookSource]
EXPORT_KINDS: dict[str, tuple[str, frozenset[Role], Builder]] = {}


def register_kind(kind: JobKind) -> None:
    JOB_KINDS[kind.kind] = kind


def register_export(kind: str, label: str, roles: frozenset[Role], builder: Builder) -> None:
    """Let a domain offer an Excel export kind (opinions, ledger, archive, ratings)."""
    EXPORT_KINDS[kind] = (label, roles, builder)

    def prepare(user: StaffUser | None, params: dict) -> Prepared:
        # Build once now so bad filters and foreign objects fail in the request, not in the thread.
        source = builder(user, params)
        return Prepared(source.total, source.filename)

    def write(run: JobRun) -> str:
        source = builder(run.user, run.params)
        run.job.total = source.total
        written = write_workbook(source, run.path, on_rows=run.advance)
        run.job.done = written
        return f"共导出 {written} 条记录。"

    register_kind(JobKind(kind, label, roles, prepare, write))


def kinds_of(family: str) -> list[JobKind]:
    return [kind for kind in JOB_KINDS.values() if kind.family == family]


def export_folder(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config.get("EXPORT_FOLDER") or os.environ.get("EXPORT_FOLDER")
    return Path(configured) if configured else Path(app.instance_path) / "exports"


def file_of(job: ExportJob, app: Flask | None = None) -> Path:
    kind = JOB_KINDS.get(job.kind)
    return export_folder(app) / f"{job.id}{kind.suffix if kind else '.xlsx'}"


def _scratch_of(job_id: str, app: Flask | None = None) -> Path:
    return export_folder(app) / f"{job_id}.files"


def kind_label(kind: str) -> str:
    return JOB_KINDS[kind].label if kind in JOB_KINDS else kind


def state_label(job: ExportJob) -> str:
    kind = JOB_KINDS.get(job.kind)
    return (kind.state_labels.get(job.state) if kind else None) or job.state_label


def active_jobs(user: StaffUser, family: str) -> list[ExportJob]:
    """The user's queued or running jobs of ``family`` (oldest first), those of dead workers left out."""
    stmt = (
        select(ExportJob)
        .where(
            ExportJob.owner_id == user.id,
            ExportJob.kind.in_([kind.kind for kind in kinds_of(family)]),
            ExportJob.state.in_((ExportState.QUEUED, ExportState.RUNNING)),
        )
        .order_by(ExportJob.created_at)
    )
    return [job for job in db.session.scalars(stmt) if not is_stale(job)]


def start_job(user: StaffUser, kind: str, params: dict) -> ExportJob:
    """Record a job for ``user`` (checked: kind, role, how many of its family already run)."""
    if kind not in JOB_KINDS:
        raise NotFound("没有这种导出。")
    spec = JOB_KINDS[kind]
    if user.role_enum not in spec.roles:
        raise Forbidden("您的角色不能使用此导出。")
    if len(active_jobs(user, spec.family)) >= spec.max_active:
        raise DomainError("您已有两个导出正在进行，请等它们完成后再导出。", code="too_many_exports")
    prepared = spec.prepare(user, params)
    job = ExportJob(
        id=secrets.token_hex(16),
        owner_id=user.id,
        kind=kind,
        params=params,
        total=prepared.total,
        filename=prepared.filename,
    )
    db.session.add(job)
    db.session.flush()
    return job


def start_export(user: StaffUser, kind: str, params: dict) -> ExportJob:
    """Record an Excel export job (a kind of the console's export room)."""
    if kind not in JOB_KINDS or JOB_KINDS[kind].family != "export":
        raise NotFound("没有这种导出。")
    return start_job(user, kind, params)


def launch(app: Flask, job_id: str) -> None:
    """Run the (committed) job in a thread; inline when ``EXPORT_INLINE`` (default: under tests).

    Tests run each request inside one rolled-back connection, which a second thread must not share.
    """
    if app.config.get("EXPORT_INLINE", app.testing):
        run_job(app, job_id)
        return
    threading.Thread(
        target=_run_in_context, args=(app, job_id), name=f"job-{job_id[:6]}", daemon=True
    ).start()


def _run_in_context(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            run_job(app, job_id)
        finally:
            db.session.remove()


def run_job(app: Flask, job_id: str) -> None:
    """Write the job's file, its kind committing progress as it goes; never raises."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state != ExportState.QUEUED:
        return
    job.state = ExportState.RUNNING
    job.heartbeat_at = utcnow()
    db.session.commit()
    final = file_of(job, app)
    partial = final.with_suffix(".part")
    scratch = _scratch_of(job.id, app)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        user = db.session.get(StaffUser, job.owner_id)
        message = JOB_KINDS[job.kind].write(JobRun(app, job, user, partial, scratch))
        partial.replace(final)
        job.state = ExportState.DONE
        job.message = message[:200]
    except DomainError as exc:
        db.session.rollback()
        job.state, job.message = ExportState.FAILED, exc.message[:200]
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        db.session.rollback()
        noun = JOB_KINDS[job.kind].noun if job.kind in JOB_KINDS else "导出"
        job.state, job.message = ExportState.FAILED, f"{noun}时出错，请稍后重试或联系管理员。"
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
        job.finished_at = utcnow()
        db.session.commit()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite: naive UTC


def is_stale(job: ExportJob) -> bool:
    if job.state not in (ExportState.QUEUED, ExportState.RUNNING):
        return False
    beat = job.heartbeat_at or job.created_at
    return utcnow() - _aware(beat) > STALE_AFTER


def job_of(job_id: str, user: StaffUser, family: str = "export") -> ExportJob:
    """The user's own job of ``family``; anybody else's is simply not found."""
    job = db.session.get(ExportJob, str(job_id)[:32])
    kind = JOB_KINDS.get(job.kind) if job is not None else None
    if job is None or job.owner_id != user.id or kind is None or kind.family != family:
        raise NotFound("没有这个导出任务。")
    if is_stale(job):
        job.state = ExportState.FAILED
        job.message = f"{kind.noun}中断（处理它的进程已停止），请重新{kind.noun}。"
        job.finished_at = utcnow()
        db.session.flush()
    return job


def take_file(job: ExportJob) -> Path | None:
    """The finished job's file to send, or None; a hand-over-once kind's job is deleted with it.

    The row is deleted first, so of two workers asked at once only one hands the file over.
    The caller opens the file before calling: the open handle keeps it readable after unlinking.
    """
    path = file_of(job)
    if job.state != ExportState.DONE or not path.is_file():
        return None
    if JOB_KINDS[job.kind].once:
        gone = db.session.execute(
            delete(ExportJob).where(ExportJob.id == job.id, ExportJob.state == ExportState.DONE)
        )
        if gone.rowcount != 1:
            return None
    return path


def progress_of(job: ExportJob) -> dict:
    return {
        "id": job.id,
        "state": job.state,
        "state_label": state_label(job),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
    }


def recent_jobs(user: StaffUser, limit: int = 20, family: str = "export") -> list[ExportJob]:
    kinds = [kind.kind for kind in kinds_of(family)]
    stmt = select(ExportJob).where(ExportJob.owner_id == user.id, ExportJob.kind.in_(kinds))
    return list(db.session.scalars(stmt.order_by(ExportJob.created_at.desc()).limit(limit)))


def remove_files(job_id: str, app: Flask | None = None) -> None:
    """Delete whatever a job left in the export folder: its file, a partial one, its scratch folder."""
    folder = export_folder(app)
    for path in folder.glob(f"{job_id}.*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def purge_expired(app: Flask | None = None) -> int:
    """Delete jobs (and files) kept longer than their kind's hours; returns how many.

    Exports are kept ``EXPORT_KEEP_HOURS`` from their start; a kind with ``keep_hours`` of its
    own counts from when the job finished (a running job is never purged while it beats).
    """
    app = app or current_app
    default_hours = float(app.config.get("EXPORT_KEEP_HOURS") or KEEP_HOURS)
    now = utcnow()
    shortest = min([default_hours] + [k.keep_hours for k in JOB_KINDS.values() if k.keep_hours is not None])
    stmt = select(ExportJob).where(ExportJob.created_at < now - timedelta(hours=shortest))
    rows = list(db.session.scalars(stmt))
    old = []
    for job in rows:
        kind = JOB_KINDS.get(job.kind)
        if kind is None or kind.keep_hours is None:
            if _aware(job.created_at) < now - timedelta(hours=default_hours):
                old.append(job.id)
        elif job.state in (ExportState.QUEUED, ExportState.RUNNING) and not is_stale(job):
            continue
        elif _aware(job.finished_at or job.created_at) < now - timedelta(hours=kind.keep_hours):
            old.append(job.id)
    for job_id in old:
        remove_files(job_id, app)
    if old:
        db.session.execute(delete(ExportJob).where(ExportJob.id.in_(old)))
    return len(old)

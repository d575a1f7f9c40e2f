"""Background exports: a job row in the database, a worker thread writing the file, any worker serving it.

``start_export`` records the job (the view commits), ``launch`` runs it in a thread of the
worker that took the request (or inline, for tests and the CLI). The thread commits its
progress with every batch, so the console's progress poll and the download work from any
gunicorn worker. A job whose heartbeat stops (its worker was killed) is reported as failed
rather than left running forever. Files are kept ``EXPORT_KEEP_HOURS`` and then purged.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
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

# kind → (label, roles that may start it, builder(user, params) → WorkbookSource)
Builder = Callable[[StaffUser | None, dict], WorkbookSource]
EXPORT_KINDS: dict[str, tuple[str, frozenset[Role], Builder]] = {}


def register_export(kind: str, label: str, roles: frozenset[Role], builder: Builder) -> None:
    """Let a domain offer an export kind (opinions, ledger, archive, ratings)."""
    EXPORT_KINDS[kind] = (label, roles, builder)


def export_folder(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config.get("EXPORT_FOLDER") or os.environ.get("EXPORT_FOLDER")
    return Path(configured) if configured else Path(app.instance_path) / "exports"


def file_of(job: ExportJob, app: Flask | None = None) -> Path:
    return export_folder(app) / f"{job.id}.xlsx"


def kind_label(kind: str) -> str:
    return EXPORT_KINDS[kind][0] if kind in EXPORT_KINDS else kind


def start_export(user: StaffUser, kind: str, params: dict) -> ExportJob:
    """Record an export job for ``user`` (checked: kind, role, at most two running at once)."""
    if kind not in EXPORT_KINDS:
        raise NotFound("没有这种导出。")
    _label, roles, builder = EXPORT_KINDS[kind]
    if user.role_enum not in roles:
        raise Forbidden("您的角色不能使用此导出。")
    active = db.session.scalars(
        select(ExportJob).where(
            ExportJob.owner_id == user.id,
            ExportJob.state.in_((ExportState.QUEUED, ExportState.RUNNING)),
        )
    ).all()
    if len([job for job in active if not is_stale(job)]) >= MAX_ACTIVE_PER_USER:
        raise DomainError("您已有两个导出正在进行，请等它们完成后再导出。", code="too_many_exports")
    # Build once now so bad filters and foreign objects fail in the request, not in the thread.
    source = builder(user, params)
    job = ExportJob(
        id=secrets.token_hex(16),
        owner_id=user.id,
        kind=kind,
        params=params,
        total=source.total,
        filename=source.filename,
    )
    db.session.add(job)
    db.session.flush()
    return job


def launch(app: Flask, job_id: str) -> None:
    """Run the (committed) job in a thread; inline when ``EXPORT_INLINE`` (default: under tests).

    Tests run each request inside one rolled-back connection, which a second thread must not share.
    """
    if app.config.get("EXPORT_INLINE", app.testing):
        run_job(app, job_id)
        return
    threading.Thread(
        target=_run_in_context, args=(app, job_id), name=f"export-{job_id[:6]}", daemon=True
    ).start()


def _run_in_context(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            run_job(app, job_id)
        finally:
            db.session.remove()


def run_job(app: Flask, job_id: str) -> None:
    """Write the job's file batch by batch, committing progress after each; never raises."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state != ExportState.QUEUED:
        return
    job.state = ExportState.RUNNING
    job.heartbeat_at = utcnow()
    db.session.commit()
    final = file_of(job, app)
    partial = final.with_suffix(".part")
    try:
        user = db.session.get(StaffUser, job.owner_id)
        source = EXPORT_KINDS[job.kind][2](user, dict(job.params or {}))
        job.total = source.total

        def progress(rows: int) -> None:
            job.done += rows
            job.heartbeat_at = utcnow()
            db.session.commit()

        written = write_workbook(source, partial, on_rows=progress)
        partial.replace(final)
        job.done = written
        job.state = ExportState.DONE
        job.message = f"共导出 {written} 条记录。"
    except DomainError as exc:
        db.session.rollback()
        job.state, job.message = ExportState.FAILED, exc.message[:200]
    except Exception:
        log.exception("export job %s failed", job_id)
        db.session.rollback()
        job.state, job.message = ExportState.FAILED, "导出时出错，请稍后重试或联系管理员。"
    finally:
        partial.unlink(missing_ok=True)
        job.finished_at = utcnow()
        db.session.commit()


def is_stale(job: ExportJob) -> bool:
    if job.state not in (ExportState.QUEUED, ExportState.RUNNING):
        return False
    beat = job.heartbeat_at or job.created_at
    if beat.tzinfo is None:  # SQLite returns naive UTC
        from datetime import UTC

        beat = beat.replace(tzinfo=UTC)
    return utcnow() - beat > STALE_AFTER


def job_of(job_id: str, user: StaffUser) -> ExportJob:
    """The user's own job; anybody else's is simply not found."""
    job = db.session.get(ExportJob, str(job_id)[:32])
    if job is None or job.owner_id != user.id:
        raise NotFound("没有这个导出任务。")
    if is_stale(job):
        job.state = ExportState.FAILED
        job.message = "导出中断（处理它的进程已停止），请重新导出。"
        job.finished_at = utcnow()
        db.session.flush()
    return job


def progress_of(job: ExportJob) -> dict:
    return {
        "id": job.id,
        "state": job.state,
        "state_label": job.state_label,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
    }


def recent_jobs(user: StaffUser, limit: int = 20) -> list[ExportJob]:
    stmt = select(ExportJob).where(ExportJob.owner_id == user.id).order_by(ExportJob.created_at.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def purge_expired(app: Flask | None = None) -> int:
    """Delete jobs (and files) older than ``EXPORT_KEEP_HOURS``; returns how many."""
    app = app or current_app
    hours = int(app.config.get("EXPORT_KEEP_HOURS") or KEEP_HOURS)
    cutoff = utcnow() - timedelta(hours=hours)
    old = list(db.session.scalars(select(ExportJob.id).where(ExportJob.created_at < cutoff)))
    for job_id in old:
        (export_folder(app) / f"{job_id}.xlsx").unlink(missing_ok=True)
    if old:
        db.session.execute(delete(ExportJob).where(ExportJob.id.in_(old)))
    return len(old)

"""统一标识牌: preview and download a station's plaque; all plaques of the scope as one ZIP."""

from __future__ import annotations

import io

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from app.auth.scope import scoped_select
from app.console import plaque_jobs
from app.console.access import STATION_VIEWERS, STATION_WORKERS, count_visible, me, roles, visible_or_404
from app.errors import NotFound, ValidationFailed
from app.exports.jobs import (
    active_jobs,
    job_of,
    launch,
    progress_of,
    purge_expired,
    remove_files,
    start_job,
    state_label,
    take_file,
)
from app.exports.models import ExportJob, ExportState
from app.extensions import db
from app.plaques.service import PRINT_DPI, plaque_bytes, plaque_font, render_plaque
from app.stations.models import Station, StationStatus
from app.validation import clean_int

VIEWERS = STATION_VIEWERS
BATCH_ROLES = STATION_WORKERS
PREVIEW_DPI = 40
# The web renders at most print quality: a 600 dpi plaque would hold ~400 MB of pixels.
DPI_RANGE = (30, PRINT_DPI)
MIMETYPES = {"png": "image/png", "pdf": "application/pdf"}


def _dpi(raw: object) -> int:
    return clean_int(raw, "dpi", "分辨率", lo=DPI_RANGE[0], hi=DPI_RANGE[1]) or PRINT_DPI


def _render(station: Station, fmt: str, dpi: int) -> bytes:
    config = current_app.config
    image = render_plaque(station, base_url=config["PUBLIC_BASE_URL"], font=plaque_font(config), dpi=dpi)
    return plaque_bytes(image, fmt, dpi)


@roles(VIEWERS)
def preview(station_id: int):
    station = visible_or_404(Station, station_id)
    response = Response(_render(station, "png", PREVIEW_DPI), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@roles(VIEWERS)
def download(station_id: int, fmt: str):
    station = visible_or_404(Station, station_id)
    try:
        dpi = _dpi(request.args.get("dpi"))
    except ValidationFailed:
        abort(404)
    return send_file(
        io.BytesIO(_render(station, fmt, dpi)),
        mimetype=MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"{station.name}标识牌-{station.code}.{fmt}",
        max_age=0,
    )


def _batch_stations() -> list[Station]:
    stmt = scoped_select(Station, me(), Station.status == StationStatus.ACTIVE)
    return list(db.session.scalars(stmt.order_by(Station.region_id, Station.name, Station.id)))


def _own_job(job_id: str) -> ExportJob | None:
    try:
        return job_of(job_id, me(), plaque_jobs.FAMILY)
    except NotFound:
        return None


@roles(BATCH_ROLES)
def batch_page():
    user = me()
    purge_expired()
    job = _own_job(request.args.get("job", "")) if request.args.get("job") else None
    if job is None:
        running = active_jobs(user, plaque_jobs.FAMILY)
        job = running[0] if running else None
    db.session.commit()  # the purge, or a stale job just marked failed
    return render_template(
        "console/plaques/batch.html",
        station_count=count_visible(Station, Station.status == StationStatus.ACTIVE),
        job=job,
        state_label=state_label,
        dpi_choices=[(PRINT_DPI, "300 dpi（印刷）"), (150, "150 dpi（校样）"), (72, "72 dpi（屏幕预览）")],
    )


@roles(BATCH_ROLES)
def batch_start():
    user = me()
    try:
        dpi = _dpi(request.form.get("dpi"))
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.plaques"))
    stations = _batch_stations()
    if not stations:
        flash("您的管辖范围内没有运行中的家站点，无需生成标识牌。", "info")
        return redirect(url_for("console.plaques"))
    running = active_jobs(user, plaque_jobs.FAMILY)
    if running:
        flash("您上一批标识牌还在生成，请等它完成。", "info")
        return redirect(url_for("console.plaques", job=running[0].id))
    job = start_job(user, plaque_jobs.KIND, plaque_jobs.job_params(stations, dpi))
    db.session.commit()
    launch(current_app._get_current_object(), job.id)
    flash(f"开始生成 {job.total} 个家站点的标识牌。", "success")
    return redirect(url_for("console.plaques", job=job.id))


@roles(BATCH_ROLES)
def batch_progress(job_id: str):
    job = job_of(job_id, me(), plaque_jobs.FAMILY)
    db.session.commit()  # a stale job just marked failed
    body = progress_of(job)
    if job.state == ExportState.DONE:
        body["download_url"] = url_for("console.plaque_batch_download", job_id=job.id)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@roles(BATCH_ROLES)
def batch_download(job_id: str):
    job = job_of(job_id, me(), plaque_jobs.FAMILY)
    path = take_file(job)  # the job is deleted: the ZIP is handed over once
    if path is None:
        abort(404)
    # Open, then delete: the open handle keeps the data readable until the response is sent
    # (POSIX), and nothing is left behind even if the download breaks off. ``call_on_close``
    # would never run here: Werkzeug passes a file response through without wrapping it.
    handle = path.open("rb")
    remove_files(job.id)
    db.session.commit()
    return send_file(
        handle,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"标识牌-{job_id[:6]}.zip",
        max_age=0,
    )

"""导出 in the console: start an export, watch its progress bar, download the file (from any worker)."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for

from app.auth.models import ADMIN_ROLES
from app.auth.scope import scoped_select
from app.console.access import EVERYONE, is_safe_next, me, region_options, roles
from app.errors import DomainError, Forbidden, NotFound
from app.exports import kinds  # noqa: F401  (registers the export kinds)
from app.exports.jobs import (
    JOB_KINDS,
    job_of,
    kind_label,
    kinds_of,
    launch,
    progress_of,
    purge_expired,
    recent_jobs,
    start_export,
    state_label,
    take_file,
)
from app.exports.models import ExportState
from app.extensions import db
from app.stations.models import Station
from app.timeutil import local_now, to_local

# Form fields that are never export filters.
_NOT_PARAMS = {"csrf_token", "next", "page"}


@roles(EVERYONE)
def index():
    user = me()
    purge_expired()
    db.session.commit()
    offered = [(kind.kind, kind.label) for kind in kinds_of("export") if user.role_enum in kind.roles]
    return render_template(
        "console/exports/index.html",
        jobs=recent_jobs(user),
        kind_label=kind_label,
        offered=offered,
        to_local=to_local,
        this_year=local_now().year,
        stations=list(
            db.session.scalars(scoped_select(Station, user).order_by(Station.region_id, Station.name))
        ),
        regions=region_options() if user.role_enum in ADMIN_ROLES else [],
    )


@roles(EVERYONE)
def start(kind: str):
    user = me()
    back = request.form.get("next", "")
    back = back if is_safe_next(back) else url_for("console_exports.index")
    params = {key: value for key, value in request.form.items() if key not in _NOT_PARAMS and value != ""}
    try:
        job = start_export(user, kind, params)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    launch(current_app._get_current_object(), job.id)
    return redirect(url_for("console_exports.job", job_id=job.id))


@roles(EVERYONE)
def job(job_id: str):
    found = job_of(job_id, me())
    db.session.commit()  # a stale job just marked failed
    return render_template(
        "console/exports/job.html",
        job=found,
        kind_label=kind_label,
        state_label=state_label,
        to_local=to_local,
    )


@roles(EVERYONE)
def progress(job_id: str):
    found = job_of(job_id, me())
    db.session.commit()
    body = progress_of(found)
    if found.state == ExportState.DONE:
        body["download_url"] = url_for("console_exports.download", job_id=found.id)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@roles(EVERYONE)
def download(job_id: str):
    found = job_of(job_id, me())
    path = take_file(found)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype=JOB_KINDS[found.kind].mimetype,
        as_attachment=True,
        download_name=found.filename or "导出.xlsx",
        max_age=0,
    )

"""台账: the activities of the stations in the user's scope, their deputies, opinions and records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role
from app.auth.scope import scoped_select
from app.auth.service import require
from app.console.access import (
    ADMINS,
    STATION_WORKERS,
    arg_id,
    form_data,
    invalid,
    me,
    paginate,
    pick,
    roles,
    visible_or_404,
)
from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.ledger import records as record_service
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityKind,
    ActivityMode,
    ActivityRecord,
    ActivityStatus,
    Attendance,
)
from app.ledger.service import (
    can_keep_ledger,
    create_activity,
    delete_activity,
    draft_from_reception,
    finalise_activity,
    link_opinion,
    reopen_activity,
    set_attendance,
    unlink_opinion,
    update_activity,
)
from app.opinions.models import Opinion
from app.receptions.models import Reception
from app.stations.models import Station, StationStatus
from app.timeutil import LOCAL_TZ, local_now, to_local

# Everyone who sees stations reads their ledgers; station staff and admins keep them.
VIEWERS = ADMINS | {Role.STATION_STAFF, Role.DEPUTY}
EDITORS = STATION_WORKERS
FORM_TEMPLATE = "console/ledger/form.html"
DETAIL_TEMPLATE = "console/ledger/detail.html"
STATION_PICKER_LIMIT = 500
RECENT_OPINIONS = 30


def _stations(active_only: bool = False) -> list[Station]:
    where = [Station.status == StationStatus.ACTIVE] if active_only else []
    stmt = scoped_select(Station, me(), *where).order_by(Station.name, Station.id).limit(STATION_PICKER_LIMIT)
    return list(db.session.scalars(stmt))


def _activity(activity_id: int) -> Activity:
    return visible_or_404(Activity, activity_id)


def _kept(activity_id: int) -> Activity:
    activity = _activity(activity_id)
    require(can_keep_ledger(me(), activity.station), "只能登记您负责的家站点的台账。")
    return activity


@roles(VIEWERS)
def index():
    where: list[Any] = []
    station_id = arg_id("station")
    if station_id is not None:
        where.append(Activity.station_id == station_id)
    kind = request.args.get("kind", "")
    if kind in {k.value for k in ActivityKind}:
        where.append(Activity.kind == kind)
    status = request.args.get("status", "")
    if status in {s.value for s in ActivityStatus}:
        where.append(Activity.status == status)
    year = request.args.get("year", type=int)
    if year and 2000 <= year <= 2100:
        where += [Activity.started_at >= datetime(year, 1, 1), Activity.started_at < datetime(year + 1, 1, 1)]
    stmt = (
        scoped_select(Activity, me(), *where)
        .options(
            selectinload(Activity.station),
            selectinload(Activity.deputies).selectinload(ActivityDeputy.deputy),
        )
        .order_by(Activity.started_at.desc(), Activity.id.desc())
    )
    return render_template(
        "console/ledger/list.html",
        page=paginate(stmt),
        stations=_stations(),
        station_id=station_id,
        kind=kind,
        status=status,
        year=year or "",
        kinds=list(ActivityKind),
        statuses=list(ActivityStatus),
        can_create=me().role_enum in EDITORS,
    )


def _form_context(station: Station | None, activity: Activity | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "station": station,
        "activity": activity,
        # Editors' scope is exactly the stations they keep (an admin's region, the staff's own).
        "stations": _stations(active_only=True) if activity is None else [],
        "deputies": station.deputies if station is not None else [],
        "kind_options": [(k.value, k.label) for k in ActivityKind],
        "mode_options": [(m.value, m.label) for m in ActivityMode],
        **extra,
    }


def _values(activity: Activity) -> dict[str, Any]:
    return {
        "station_id": activity.station_id,
        "kind": activity.kind,
        "mode": activity.mode,
        "title": activity.title,
        "content": activity.content,
        "date": activity.started_at.date().isoformat(),
        "start": f"{activity.started_at:%H:%M}",
        "end": f"{activity.ended_at:%H:%M}" if activity.ended_at else "",
        "residents_received": activity.residents_received,
        "problems_solved": activity.problems_solved,
        "announced": activity.announced_at is not None,
        "announce_channel": activity.announce_channel,
    }


@roles(EDITORS)
def new():
    if request.method == "GET":
        station_id = arg_id("station")
        station = visible_or_404(Station, station_id) if station_id is not None else None
        stations = _form_context(None)["stations"]
        if station is None and len(stations) == 1:
            station = stations[0]
        if station is not None:
            require(can_keep_ledger(me(), station), "只能登记您负责的家站点的台账。")
        today = local_now().date().isoformat()
        form = {
            "station_id": station.id if station else "",
            "date": today,
            "start": "09:00",
            "mode": "offline",
        }
        return render_template(FORM_TEMPLATE, form=form, chosen=[], **_form_context(station))
    data = form_data("announced")
    deputy_ids = request.form.getlist("deputy_ids")
    try:
        station = pick(Station, data.get("station_id"), "station_id", "家站点")
    except ValidationFailed as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=deputy_ids, **_form_context(None))
    require(can_keep_ledger(me(), station), "只能登记您负责的家站点的台账。")
    try:
        activity = create_activity(station, data, user=me(), deputy_ids=deputy_ids)
    except DomainError as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=deputy_ids, **_form_context(station))
    db.session.commit()
    flash("活动已保存为草稿：核对出席情况、关联意见、上传记录后点“登记”。", "success")
    return redirect(url_for("console_ledger.detail", activity_id=activity.id))


@roles(EDITORS)
def from_reception(reception_id: int):
    """结束接待并登记台账: the reception's draft (made now if the sweep has not yet)."""
    reception = visible_or_404(Reception, reception_id)
    require(can_keep_ledger(me(), reception.station), "只能登记您负责的家站点的台账。")
    try:
        activity, created = draft_from_reception(reception, user=me())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.reception_detail", reception_id=reception_id))
    db.session.commit()
    if created:
        flash("已根据本场预约、到场和收集的意见生成台账草稿，请核对后登记。", "success")
    return redirect(url_for("console_ledger.detail", activity_id=activity.id))


def _detail_context(activity: Activity, **extra: Any) -> dict[str, Any]:
    user = me()
    can_keep = can_keep_ledger(user, activity.station)
    linked = {link.opinion_id for link in activity.opinions}
    candidates = []
    if can_keep and activity.status == ActivityStatus.DRAFT:
        # Opinions of the 90 days before the activity (created_at is stored as UTC-aware).
        since = (activity.started_at - timedelta(days=90)).replace(tzinfo=LOCAL_TZ)
        candidates = [
            o
            for o in db.session.scalars(
                select(Opinion)
                .where(Opinion.station_id == activity.station_id, Opinion.created_at >= since)
                .order_by(Opinion.id.desc())
                .limit(RECENT_OPINIONS)
            )
            if o.id not in linked
        ]
    on_activity = {d.deputy_id: d for d in activity.deputies}
    return {
        "activity": activity,
        "can_keep": can_keep,
        "is_draft": activity.status == ActivityStatus.DRAFT,
        "attendance_rows": [(d, on_activity.get(d.id)) for d in activity.station.deputies]
        + [(row.deputy, row) for row in activity.deputies if row.deputy not in activity.station.deputies],
        "attendances": list(Attendance),
        "candidates": candidates,
        "records": activity.records,
        "max_mb": record_service.max_record_bytes() // (1024 * 1024),
        "to_local": to_local,
        **extra,
    }


@roles(VIEWERS)
def detail(activity_id: int):
    return render_template(DETAIL_TEMPLATE, **_detail_context(_activity(activity_id)))


@roles(EDITORS)
def edit(activity_id: int):
    activity = _kept(activity_id)
    context = _form_context(activity.station, activity)
    if request.method == "GET":
        return render_template(FORM_TEMPLATE, form=_values(activity), chosen=[], **context)
    data = form_data("announced")
    try:
        update_activity(activity, data)
    except DomainError as exc:
        return invalid(exc, FORM_TEMPLATE, form=data, chosen=[], **context)
    db.session.commit()
    flash("活动已保存。", "success")
    return redirect(url_for("console_ledger.detail", activity_id=activity.id))


def _act(activity_id: int, change: Callable[[Activity], object], success: str, *, back_to_list: bool = False):
    """One change from a button of the detail page; a refused one comes back as a flash."""
    activity = _kept(activity_id)
    back = redirect(url_for("console_ledger.detail", activity_id=activity_id))
    try:
        change(activity)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return back
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("console_ledger.index")) if back_to_list else back


@roles(EDITORS)
def attendance(activity_id: int):
    wanted = {
        key.removeprefix("att-"): value
        for key, value in request.form.items()
        if key.startswith("att-") and key.removeprefix("att-").isdigit()
    }
    return _act(activity_id, lambda a: set_attendance(a, wanted), "出席情况已保存。")


@roles(EDITORS)
def link(activity_id: int):
    def change(activity: Activity) -> None:
        opinion = pick(Opinion, request.form.get("opinion_id"), "opinion_id", "群众意见")
        link_opinion(activity, opinion, solved=request.form.get("solved") in ("1", "on"))

    return _act(activity_id, change, "已关联群众意见。")


@roles(EDITORS)
def unlink(activity_id: int, opinion_id: int):
    return _act(activity_id, lambda a: unlink_opinion(a, opinion_id), "已取消关联。")


@roles(EDITORS)
def finalise(activity_id: int):
    return _act(activity_id, lambda a: finalise_activity(a, me()), "已登记入台账。")


@roles(EDITORS)
def reopen(activity_id: int):
    return _act(activity_id, reopen_activity, "已退回草稿，可以修改。")


@roles(EDITORS)
def delete(activity_id: int):
    return _act(activity_id, delete_activity, "草稿已删除。", back_to_list=True)


@roles(EDITORS)
def upload(activity_id: int):
    upload_file = request.files.get("file")

    def change(activity: Activity) -> None:
        if upload_file is None or not upload_file.filename:
            raise ValidationFailed("请选择要上传的文件。", field="file")
        record_service.add_record(activity, upload_file.stream, upload_file.filename, user=me())

    return _act(activity_id, change, "记录已上传。")


def _record(activity_id: int, record_id: int) -> ActivityRecord:
    activity = _activity(activity_id)
    record = db.session.get(ActivityRecord, record_id)
    if record is None or record.activity_id != activity.id:
        raise NotFound()
    return record


@roles(VIEWERS)
def record(activity_id: int, record_id: int):
    """Serve a record to those who see its activity: its sniffed type, never sniffed again, sandboxed."""
    item = _record(activity_id, record_id)
    path = record_service.record_path(item)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=item.content_type,
        as_attachment=not record_service.serve_inline(item),
        download_name=item.original_name,
        max_age=0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@roles(EDITORS)
def record_delete(activity_id: int, record_id: int):
    item = _record(activity_id, record_id)
    return _act(activity_id, lambda a: record_service.delete_record(item), "记录已删除。")

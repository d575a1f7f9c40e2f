"""星级评定 in the console: the year's stations and targets, a station's score sheet, its workflow."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from app.auth.models import ADMIN_ROLES, Role
from app.console.access import ADMINS, me, roles, visible_or_404
from app.errors import DomainError, Forbidden, NotFound
from app.exports.xlsx import write_workbook
from app.extensions import db
from app.rating.exports import sheet_workbook
from app.rating.items import ITEMS_BY_KEY
from app.rating.models import SheetState
from app.rating.service import (
    ACTIONS,
    LEVEL_LABELS,
    LEVELS,
    STAR_LEVELS,
    TARGETS,
    advance,
    allowed_actions,
    can_edit,
    decided_counts,
    enter_scores,
    score_sheet,
    sheet_for,
    year_rows,
)
from app.stations.models import Station
from app.timeutil import local_now, to_local

RATING_VIEWERS = ADMINS | {Role.STATION_STAFF}
YEARS = range(2022, 2101)


def _year(raw: object) -> int:
    text = str(raw or "").strip()
    year = int(text) if text.isdigit() else local_now().year
    return year if year in YEARS else local_now().year


def _check_year(year: int) -> None:
    if year not in YEARS:
        abort(404)


@roles(RATING_VIEWERS)
def index():
    user = me()
    year = _year(request.args.get("year"))
    rows = year_rows(user, year)
    only_below = request.args.get("below") == "1"
    below = [r for r in rows if r.level == "none"]
    shown = below if only_below else rows
    return render_template(
        "console/rating/index.html",
        year=year,
        rows=shown,
        all_count=len(rows),
        below_count=len(below),
        only_below=only_below,
        counts=decided_counts(user, year),
        live_counts={level: len([r for r in rows if r.level == level]) for level in LEVELS},
        targets=TARGETS if user.role_enum is Role.CITY_ADMIN else {},
        star_levels=STAR_LEVELS,
        level_labels=LEVEL_LABELS,
        is_admin=user.role_enum in ADMIN_ROLES,
        years=range(local_now().year, 2021, -1),
    )


@roles(RATING_VIEWERS)
def sheet(year: int, station_id: int):
    _check_year(year)
    user = me()
    station = visible_or_404(Station, station_id)
    view = score_sheet(station, year)
    return render_template(
        "console/rating/sheet.html",
        view=view,
        year=year,
        station=station,
        editable=can_edit(user, view.sheet, station) and view.state != SheetState.DECIDED,
        actions=allowed_actions(user, view.sheet, station),
        action_labels={k: v[2] for k, v in ACTIONS.items()},
        levels=LEVELS,
        level_labels=LEVEL_LABELS,
        to_local=to_local,
    )


@roles(RATING_VIEWERS)
def scores(year: int, station_id: int):
    _check_year(year)
    user = me()
    station = visible_or_404(Station, station_id)
    values = {
        key: (request.form.get(f"score_{key}", ""), request.form.get(f"note_{key}", ""))
        for key, item in ITEMS_BY_KEY.items()
        if not item.auto and f"score_{key}" in request.form
    }
    try:
        changed = enter_scores(sheet_for(station, year), user, values)
    except (NotFound, Forbidden):
        raise  # the 404 / 403 page: not this user's sheet, or not their step
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console_rating.sheet", year=year, station_id=station.id))
    db.session.commit()
    flash(f"已保存 {changed} 项评分。" if changed else "评分没有变化。", "success")
    return redirect(url_for("console_rating.sheet", year=year, station_id=station.id))


@roles(RATING_VIEWERS)
def step(year: int, station_id: int):
    _check_year(year)
    user = me()
    station = visible_or_404(Station, station_id)
    action = request.form.get("action", "")
    try:
        done = advance(
            sheet_for(station, year),
            user,
            action,
            level=request.form.get("level"),
            note=request.form.get("note", ""),
        )
    except (NotFound, Forbidden):
        raise  # the 404 / 403 page: not this user's sheet, or not their step
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console_rating.sheet", year=year, station_id=station.id))
    db.session.commit()
    label = ACTIONS[action][2]
    level = f"（{LEVEL_LABELS[done.level]}）" if done.level else ""
    flash(f"已{label}{level}。", "success")
    return redirect(url_for("console_rating.sheet", year=year, station_id=station.id))


@roles(RATING_VIEWERS)
def sheet_xlsx(year: int, station_id: int):
    """One station's score sheet is 45 rows: written at once, no background job needed."""
    _check_year(year)
    station = visible_or_404(Station, station_id)
    source = sheet_workbook(score_sheet(station, year))
    buffer = io.BytesIO()
    write_workbook(source, buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=source.filename,
        max_age=0,
    )

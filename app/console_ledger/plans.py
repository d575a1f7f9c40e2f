"""年度活动计划: each station's plan for a year, planned against what the ledger shows done."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth.scope import scoped_select
from app.auth.service import require
from app.console.access import arg_id, invalid, me, paginate, roles, visible_or_404
from app.console_ledger.views import EDITORS, VIEWERS
from app.errors import DomainError
from app.extensions import db
from app.ledger.models import ActivityKind, ActivityPlan
from app.ledger.service import can_keep_ledger, plan_progress, save_plan
from app.stations.models import Station
from app.timeutil import local_now

BLANK_ROWS = 4
PLAN_TEMPLATE = "console/ledger/plan.html"


def _year() -> int:
    year = request.args.get("year", type=int) or local_now().year
    return year if 2000 <= year <= 2100 else local_now().year


@roles(VIEWERS)
def index():
    year = _year()
    stmt = scoped_select(Station, me())
    station_id = arg_id("station")
    if station_id is not None:
        stmt = stmt.where(Station.id == station_id)
    page = paginate(stmt.order_by(Station.name, Station.id))
    ids = [s.id for s in page.items]
    plans = {
        p.station_id: p
        for p in db.session.scalars(
            select(ActivityPlan).where(ActivityPlan.station_id.in_(ids), ActivityPlan.year == year)
        )
    }
    rows = []
    for station in page.items:
        plan = plans.get(station.id)
        lines = plan_progress(plan) if plan else []
        rows.append(
            {
                "station": station,
                "plan": plan,
                "planned": sum(line.planned for line in lines),
                "done": sum(min(line.done, line.planned) for line in lines),
            }
        )
    return render_template("console/ledger/plans.html", page=page, rows=rows, year=year)


def _form_rows(plan: ActivityPlan | None) -> list[dict[str, Any]]:
    rows = [
        {"kind": i.kind, "month": i.month or "", "planned_count": i.planned_count, "title": i.title}
        for i in (plan.items if plan else [])
    ]
    return rows + [{"kind": "", "month": "", "planned_count": "", "title": ""} for _ in range(BLANK_ROWS)]


def _posted_rows() -> list[dict[str, str]]:
    rows: dict[int, dict[str, str]] = {}
    for key, value in request.form.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            rows.setdefault(int(parts[1]), {})[parts[2]] = value
    return [rows[i] for i in sorted(rows)]


@roles(VIEWERS)
def plan(station_id: int, year: int):
    station = visible_or_404(Station, station_id)
    if not 2000 <= year <= 2100:
        abort(404)
    current = db.session.scalar(
        select(ActivityPlan).where(ActivityPlan.station_id == station.id, ActivityPlan.year == year)
    )
    can_keep = me().role_enum in EDITORS and can_keep_ledger(me(), station)
    context = {
        "station": station,
        "year": year,
        "plan": current,
        "lines": plan_progress(current) if current else [],
        "can_keep": can_keep,
        "kind_options": [(k.value, k.label) for k in ActivityKind],
    }
    if request.method == "GET":
        return render_template(
            PLAN_TEMPLATE, rows=_form_rows(current), note=current.note if current else "", **context
        )
    require(can_keep, "只能编制您负责的家站点的年度活动计划。")
    rows = _posted_rows()
    try:
        save_plan(station, year, rows, note=request.form.get("note", ""), user=me())
    except DomainError as exc:
        return invalid(exc, PLAN_TEMPLATE, rows=rows, note=request.form.get("note", ""), **context)
    db.session.commit()
    flash(f"{year} 年度活动计划已保存。", "success")
    return redirect(url_for("console_ledger.plan", station_id=station.id, year=year))

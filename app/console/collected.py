"""现场收集意见: staff enter opinions residents gave at a reception or a deputy's visit."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from app.auth.scope import scoped_select
from app.auth.service import require
from app.console.access import (
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
from app.deputies.models import Deputy
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.opinions.models import Channel, Opinion
from app.opinions.service import active_categories, submit_opinion
from app.receptions.models import Reception, ReceptionStatus
from app.receptions.service import can_run_receptions
from app.stations.models import Station, StationStatus
from app.timeutil import local_now, to_local

COLLECTORS = STATION_WORKERS
TEMPLATE = "console/collected/form.html"
RECEPTION_DAYS_BACK = 90
NONCE_RE = re.compile(r"^[0-9a-f]{32}$")


def _station_options() -> list[Station]:
    stmt = scoped_select(Station, me(), Station.status == StationStatus.ACTIVE)
    return list(db.session.scalars(stmt.order_by(Station.name, Station.id).limit(500)))


def _chosen(station: Station) -> Station:
    # Whoever runs a station's receptions records what residents said there.
    require(can_run_receptions(me(), station), "只能为您负责的家站点登记群众意见。")
    return station


def _recent_receptions(station: Station) -> list[Reception]:
    today = local_now().date()
    stmt = scoped_select(
        Reception,
        me(),
        Reception.station_id == station.id,
        Reception.status != ReceptionStatus.CANCELLED,
        Reception.date.between(today - timedelta(days=RECEPTION_DAYS_BACK), today),
    )
    return list(db.session.scalars(stmt.order_by(Reception.date.desc(), Reception.start.desc()).limit(30)))


def _context(station: Station | None, **extra: Any) -> dict[str, Any]:
    return {
        "station": station,
        "stations": _station_options(),
        "receptions": _recent_receptions(station) if station is not None else [],
        "deputies": station.deputies if station is not None else [],
        "categories": active_categories(),
        **extra,
    }


@roles(COLLECTORS)
def index():
    stmt = (
        scoped_select(Opinion, me(), Opinion.channel == Channel.STAFF)
        .options(selectinload(Opinion.station), selectinload(Opinion.deputy))
        .order_by(Opinion.created_at.desc(), Opinion.id.desc())
    )
    return render_template(
        "console/collected/list.html",
        page=paginate(stmt),
        to_local=to_local,
        category_names={category.code: category.name for category in active_categories()},
    )


def _reception_of(station: Station, raw: object) -> Reception | None:
    text = str(raw or "").strip()
    if not text:
        return None
    reception = pick(Reception, text, "reception_id", "接待活动")
    if reception.station_id != station.id:
        raise ValidationFailed("所选接待活动不是该家站点的，请重新选择。", field="reception_id")
    return reception


def _deputies_of(station: Station, raw_ids: list[str]) -> list[Deputy]:
    placed = {deputy.id: deputy for deputy in station.deputies}
    chosen: list[Deputy] = []
    for raw in raw_ids:
        text = str(raw or "").strip()
        deputy = placed.get(int(text)) if text.isdigit() else None
        if deputy is None:
            raise ValidationFailed("相关代表只能从编入该家站点的代表中选择。", field="deputy_ids")
        if deputy not in chosen:
            chosen.append(deputy)
    return chosen


def _dedup_key(raw_nonce: object, content: object) -> str | None:
    """A double click or a resent form stores the opinion once.

    The form's one-time nonce plus the content: an old form brought back and filled in
    with something else is a new opinion, not a repeat of the first.
    """
    nonce = str(raw_nonce or "").strip()
    if not NONCE_RE.match(nonce):
        return None
    digest = hashlib.sha256(str(content or "").strip().encode()).hexdigest()[:16]
    return f"staff-form:{me().id}:{nonce}:{digest}"


@roles(COLLECTORS)
def new():
    user = me()
    if request.method == "GET":
        station_id = arg_id("station")
        station = _chosen(visible_or_404(Station, station_id)) if station_id is not None else None
        stations = _station_options()
        if station is None and len(stations) == 1:
            station = _chosen(stations[0])
        reception_id = arg_id("reception")
        form = {"reception_id": reception_id or "", "nonce": secrets.token_hex(16)}
        return render_template(TEMPLATE, form=form, chosen=[], **_context(station))

    data = form_data("consent")
    deputy_ids = request.form.getlist("deputy_ids")
    try:
        station = pick(Station, data.get("station_id"), "station_id", "家站点")
    except ValidationFailed as exc:
        return invalid(exc, TEMPLATE, form=data, chosen=deputy_ids, **_context(None))
    _chosen(station)
    try:
        reception = _reception_of(station, data.get("reception_id"))
        deputies = _deputies_of(station, deputy_ids)
        category = data.get("category")
        consent = bool(data.get("consent"))
        opinion = submit_opinion(
            station=station,
            content=data.get("content"),
            channel=Channel.STAFF,
            # 群众同意留下联系方式才记录；否则只存意见本身，无法回访也不推送。
            contact_name=data.get("contact_name", "") if consent else "",
            contact_mobile=data.get("contact_mobile", "") if consent else "",
            category=category,
            deputies=deputies,
            reception=reception,
            dedup_key=_dedup_key(data.get("nonce"), data.get("content")),
            actor=f"staff:{user.username}",
        )
    except DomainError as exc:
        return invalid(exc, TEMPLATE, form=data, chosen=deputy_ids, **_context(station))
    db.session.commit()
    flash(
        f"意见已登记，查询编号 {opinion.tracking_no}（可告知群众凭编号在扫码页面查询办理进度）。",
        "success",
    )
    return redirect(url_for("console.collected_new", station=station.id))

"""代表: deputies in the user's scope, their mandates, photo and placements."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.auth.scope import region_ids_under, scoped_select
from app.auth.service import can_manage_deputy, require
from app.console.access import (
    ADMINS,
    DEPUTY_VIEWERS,
    arg_id,
    form_data,
    invalid,
    me,
    paginate,
    pick,
    region_options,
    roles,
    search_term,
    visible_or_404,
)
from app.deputies.models import Deputy, Mandate, MandateLevel
from app.deputies.service import create_deputy, set_photo, update_deputy
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.media.service import delete_file, save_image
from app.regions.models import Region, RegionLevel
from app.stations.models import Placement, Station

VIEWERS = DEPUTY_VIEWERS
FIELDS = ("name", "gender", "unit", "post", "public_contact")
MANDATE_FIELDS = ("level", "term", "start_year", "end_year", "constituency")
# The 人大 that keeps a deputy's record is a city, district or town one.
RECORD_LEVELS = (RegionLevel.CITY, RegionLevel.DISTRICT, RegionLevel.TOWN)
BLANK_MANDATE_ROWS = 2


@roles(VIEWERS)
def index():
    user = me()
    q = search_term()
    where: list[Any] = []
    if q:
        where.append(Deputy.name.contains(q, autoescape=True))
    level = request.args.get("level", "")
    if level in MandateLevel.__members__.values():
        where.append(Deputy.id.in_(select(Mandate.deputy_id).where(Mandate.level == level)))
    region_id = arg_id("region")
    if region_id is not None:
        region = db.session.scalar(scoped_select(Region, user, Region.id == region_id))
        if region is not None:
            where.append(Deputy.region_id.in_(region_ids_under(region.path)))
    leader = request.args.get("leader") == "1"
    if leader:
        where.append(Deputy.is_leader.is_(True))
    page = paginate(scoped_select(Deputy, user, *where).order_by(Deputy.name, Deputy.id))
    ids = [d.id for d in page.items]
    placement_counts = dict(
        db.session.execute(
            select(Placement.deputy_id, func.count())
            .where(Placement.deputy_id.in_(ids))
            .group_by(Placement.deputy_id)
        ).all()
    )
    return render_template(
        "console/deputies/list.html",
        page=page,
        q=q,
        level=level,
        leader=leader,
        region_id=region_id,
        regions=region_options(),
        levels=list(MandateLevel),
        placement_counts=placement_counts,
        is_admin=user.role_enum in ADMINS,
    )


def _mandate_rows() -> list[dict[str, str]]:
    """The mandate rows of the posted form, one dict per row."""
    columns = [request.form.getlist(f"m_{name}") for name in MANDATE_FIELDS]
    return [
        {name: (value or "") for name, value in zip(MANDATE_FIELDS, row, strict=True)}
        for row in zip_longest(*columns, fillvalue="")
    ]


def _with_blank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filled = [r for r in rows if any(str(v or "").strip() for v in r.values())]
    return filled + [dict.fromkeys(MANDATE_FIELDS, "") for _ in range(BLANK_MANDATE_ROWS)]


def _values(deputy: Deputy) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(deputy, name) or "" for name in FIELDS}
    values.update(is_leader=deputy.is_leader, active=deputy.active, region_id=deputy.region_id)
    return values


def _mandate_values(deputy: Deputy) -> list[dict[str, Any]]:
    return [
        {
            "level": m.level,
            "term": m.term,
            "start_year": m.start_year,
            "end_year": m.end_year or "",
            "constituency": m.constituency,
        }
        for m in deputy.mandates
    ]


def _form_context(deputy: Deputy | None = None) -> dict[str, Any]:
    return {
        "deputy": deputy,
        "regions": region_options(RECORD_LEVELS),
        "levels": list(MandateLevel),
    }


@roles(ADMINS)
def new():
    template = "console/deputies/form.html"
    if request.method == "GET":
        form = {"active": True, "region_id": request.args.get("region", "")}
        return render_template(template, form=form, mandates=_with_blank_rows([]), **_form_context())
    data = form_data("is_leader", "active")
    rows = _mandate_rows()
    try:
        region = pick(Region, data.get("region_id"), "region_id", "所属人大（区域）")
        require(region.is_within(me().region), "只能在您管辖的区域内登记代表。")
        deputy = create_deputy(region=region, data=data, mandates=rows)
    except DomainError as exc:
        return invalid(exc, template, form=data, mandates=_with_blank_rows(rows), **_form_context())
    db.session.commit()
    flash(f"已登记代表：{deputy.name}", "success")
    return redirect(url_for("console.deputy_detail", deputy_id=deputy.id))


@roles(VIEWERS)
def detail(deputy_id: int):
    user = me()
    deputy = visible_or_404(Deputy, deputy_id)
    placed = select(Placement.station_id).where(Placement.deputy_id == deputy.id)
    stations = list(
        db.session.scalars(scoped_select(Station, user, Station.id.in_(placed)).order_by(Station.name))
    )
    total = db.session.scalar(select(func.count()).where(Placement.deputy_id == deputy.id)) or 0
    return render_template(
        "console/deputies/detail.html",
        deputy=deputy,
        stations=stations,
        hidden_placements=max(total - len(stations), 0),
        can_manage=can_manage_deputy(user, deputy),
    )


def _edit_page(deputy: Deputy, form: dict, mandates: list[dict], status: int = 200, **extra: Any):
    return (
        render_template(
            "console/deputies/form.html",
            form=form,
            mandates=_with_blank_rows(mandates),
            **_form_context(deputy),
            **extra,
        ),
        status,
    )


@roles(ADMINS)
def edit(deputy_id: int):
    deputy = visible_or_404(Deputy, deputy_id)
    require(can_manage_deputy(me(), deputy))
    if request.method == "GET":
        return _edit_page(deputy, _values(deputy), _mandate_values(deputy))
    data = form_data("is_leader", "active")
    rows = _mandate_rows()
    try:
        update_deputy(deputy, data, rows)
    except DomainError as exc:
        return invalid(
            exc,
            "console/deputies/form.html",
            form=data,
            mandates=_with_blank_rows(rows),
            **_form_context(deputy),
        )
    db.session.commit()
    flash("代表信息已保存。", "success")
    return redirect(url_for("console.deputy_detail", deputy_id=deputy.id))


@roles(ADMINS)
def upload_photo(deputy_id: int):
    deputy = visible_or_404(Deputy, deputy_id)
    require(can_manage_deputy(me(), deputy))
    upload = request.files.get("photo")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed("请选择要上传的照片。", field="photo")
        relative = save_image(upload.stream, "deputies")
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(
            deputy, _values(deputy), _mandate_values(deputy), exc.status, photo_error=exc.message
        )
    old = deputy.photo
    set_photo(deputy, relative)
    db.session.commit()
    # Only once the new path is committed may the old file go.
    delete_file(old)
    flash("照片已更新。", "success")
    return redirect(url_for("console.deputy_edit", deputy_id=deputy.id))


@roles(ADMINS)
def remove_photo(deputy_id: int):
    deputy = visible_or_404(Deputy, deputy_id)
    require(can_manage_deputy(me(), deputy))
    old = deputy.photo
    set_photo(deputy, None)
    db.session.commit()
    delete_file(old)
    flash("照片已删除。", "success")
    return redirect(url_for("console.deputy_edit", deputy_id=deputy.id))

"""承办单位: the handling units the user's 人大 assigns opinions to."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_

from app.auth.models import StaffUser
from app.auth.scope import scoped_select
from app.auth.service import can_manage_unit, require
from app.console.access import (
    ADMINS,
    UNIT_VIEWERS,
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
from app.errors import DomainError
from app.extensions import db
from app.regions.models import Region
from app.units.models import HandlingUnit, UnitKind
from app.units.service import create_unit, update_unit

VIEWERS = UNIT_VIEWERS
FIELDS = ("name", "kind", "contact_name", "contact_phone")


@roles(VIEWERS)
def index():
    user = me()
    q = search_term()
    where: list[Any] = []
    if q:
        where.append(
            or_(
                HandlingUnit.name.contains(q, autoescape=True), HandlingUnit.code.contains(q, autoescape=True)
            )
        )
    kind = request.args.get("kind", "")
    if kind in UnitKind.__members__.values():
        where.append(HandlingUnit.kind == kind)
    page = paginate(
        scoped_select(HandlingUnit, user, *where).order_by(HandlingUnit.region_id, HandlingUnit.name)
    )
    return render_template(
        "console/units/list.html",
        page=page,
        q=q,
        kind=kind,
        kinds=list(UnitKind),
        is_admin=user.role_enum in ADMINS,
    )


def _form_context(unit: HandlingUnit | None = None) -> dict[str, Any]:
    return {"unit": unit, "regions": region_options(), "kinds": list(UnitKind)}


@roles(ADMINS)
def new():
    template = "console/units/form.html"
    if request.method == "GET":
        form = {"active": True, "kind": UnitKind.GOVERNMENT, "region_id": request.args.get("region", "")}
        return render_template(template, form=form, **_form_context())
    data = form_data("active")
    try:
        region = pick(Region, data.get("region_id"), "region_id", "所属人大（区域）")
        require(region.is_within(me().region), "只能在您管辖的区域内添加承办单位。")
        unit = create_unit(region=region, code=data.get("code", ""), data=data)
    except DomainError as exc:
        return invalid(exc, template, form=data, **_form_context())
    db.session.commit()
    flash(f"已添加承办单位：{unit.name}", "success")
    return redirect(url_for("console.unit_detail", unit_id=unit.id))


@roles(VIEWERS)
def detail(unit_id: int):
    user = me()
    unit = visible_or_404(HandlingUnit, unit_id)
    staff = list(
        db.session.scalars(
            scoped_select(StaffUser, user, StaffUser.unit_id == unit.id).order_by(StaffUser.id)
        )
    )
    return render_template(
        "console/units/detail.html",
        unit=unit,
        staff=staff,
        can_manage=can_manage_unit(user, unit),
        is_admin=user.role_enum in ADMINS,
    )


@roles(ADMINS)
def edit(unit_id: int):
    unit = visible_or_404(HandlingUnit, unit_id)
    require(can_manage_unit(me(), unit))
    template = "console/units/form.html"
    if request.method == "GET":
        form = {name: getattr(unit, name) for name in FIELDS}
        form.update(active=unit.active, code=unit.code, region_id=unit.region_id)
        return render_template(template, form=form, **_form_context(unit))
    data = form_data("active")
    try:
        update_unit(unit, data)
    except DomainError as exc:
        return invalid(exc, template, form=data, **_form_context(unit))
    db.session.commit()
    flash("承办单位信息已保存。", "success")
    return redirect(url_for("console.unit_detail", unit_id=unit.id))

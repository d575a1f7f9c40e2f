"""工作人员: staff accounts within the user's scope, of the user's rank or below."""

from __future__ import annotations

import math
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_

from app.auth.models import ADMIN_ROLE_LEVEL, Role, StaffUser
from app.auth.scope import scoped_select
from app.auth.service import ROLE_RANK, can_manage_user, create_user, require, update_user
from app.console.access import (
    ADMINS,
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
from app.deputies.models import Deputy
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.notify.service import audit
from app.regions.models import Region
from app.security.lockout import release, seconds_locked
from app.stations.models import Station
from app.units.models import HandlingUnit

# Which form field names the one object a role is scoped to.
TARGET_FIELD = {
    Role.CITY_ADMIN: "region_id",
    Role.DISTRICT_ADMIN: "region_id",
    Role.TOWN_ADMIN: "region_id",
    Role.STATION_STAFF: "station_id",
    Role.UNIT_STAFF: "unit_id",
    Role.DEPUTY: "deputy_id",
}
TARGET_MODEL = {"region_id": Region, "station_id": Station, "unit_id": HandlingUnit, "deputy_id": Deputy}
TARGET_LABEL = {
    "region_id": "所属区域",
    "station_id": "所在家站点",
    "unit_id": "承办单位",
    "deputy_id": "代表",
}
OPTION_LIMIT = 1000


@roles(ADMINS)
def index():
    user = me()
    q = search_term()
    where: list[Any] = []
    if q:
        where.append(
            or_(
                StaffUser.username.contains(q, autoescape=True),
                StaffUser.display_name.contains(q, autoescape=True),
            )
        )
    role = request.args.get("role", "")
    if role in Role.__members__.values():
        where.append(StaffUser.role == role)
    page = paginate(scoped_select(StaffUser, user, *where).order_by(StaffUser.role, StaffUser.username))
    return render_template(
        "console/users/list.html",
        page=page,
        q=q,
        role=role,
        roles=list(Role),
        can_manage=lambda target: can_manage_user(user, target),
    )


def creatable_roles(user: StaffUser) -> list[Role]:
    """Roles of the user's rank or below: a district admin never mints a city admin."""
    return [role for role in Role if ROLE_RANK[role] >= ROLE_RANK[user.role_enum]]


def _form_context() -> dict[str, Any]:
    user = me()
    allowed = creatable_roles(user)

    def visible(model: type, order: Any) -> list:
        return list(db.session.scalars(scoped_select(model, user).order_by(order).limit(OPTION_LIMIT)))

    return {
        "target_user": None,
        "roles": allowed,
        "regions": region_options([ADMIN_ROLE_LEVEL[role] for role in allowed if role in ADMINS]),
        "stations": visible(Station, Station.name),
        "units": visible(HandlingUnit, HandlingUnit.name),
        "deputies": visible(Deputy, Deputy.name),
    }


@roles(ADMINS)
def new():
    template = "console/users/form.html"
    if request.method == "GET":
        form = {"role": request.args.get("role", "")}
        for field in TARGET_MODEL:
            form[field] = request.args.get(field, "")
        return render_template(template, form=form, **_form_context())
    data = form_data()
    try:
        try:
            role = Role(data.get("role", ""))
        except ValueError:
            raise ValidationFailed("请选择角色。", field="role") from None
        field = TARGET_FIELD[role]
        # Resolve through the scope first: a target outside it is 404, like any other object.
        pick(TARGET_MODEL[field], data.get(field), field, TARGET_LABEL[field])
        created = create_user(me(), data)
    except DomainError as exc:
        data.pop("password", None)
        return invalid(exc, template, form=data, **_form_context())
    db.session.commit()
    flash(f"已创建账号 {created.username}（{created.role_label}）。", "success")
    return redirect(url_for("console.users"))


@roles(ADMINS)
def edit(user_id: int):
    target = visible_or_404(StaffUser, user_id)
    require(can_manage_user(me(), target))
    template = "console/users/form.html"
    context = {"target_user": target, "locked_minutes": _locked_minutes(target)}
    if request.method == "GET":
        form = {"display_name": target.display_name, "phone": target.phone, "active": target.active}
        return render_template(template, form=form, **context)
    data = form_data("active")
    try:
        update_user(me(), target, data)
    except DomainError as exc:
        data.pop("password", None)
        return invalid(exc, template, form=data, **context)
    db.session.commit()
    flash(f"账号 {target.username} 已保存。", "success")
    return redirect(url_for("console.users"))


def _locked_minutes(target: StaffUser) -> int:
    """Minutes left of the account's sign-in lock-out (0: not locked), rounded up."""
    return math.ceil(seconds_locked(target.username) / 60)


@roles(ADMINS)
def unlock(user_id: int):
    """Lift a sign-in lock-out before it ends by itself (the user called to say it is them)."""
    target = visible_or_404(StaffUser, user_id)
    require(can_manage_user(me(), target))
    if seconds_locked(target.username):
        release(target.username)
        audit(me(), "login_unlocked", "staff_user", target.id, f"解除 {target.username} 的登录锁定")
        db.session.commit()
        flash(f"已解除账号 {target.username} 的登录锁定，可以重新登录。", "success")
    else:
        flash(f"账号 {target.username} 当前没有被锁定。", "info")
    return redirect(url_for("console.user_edit", user_id=target.id))

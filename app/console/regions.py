"""区域: the user's part of the region tree; add, rename and remove regions below their root."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.auth.scope import scoped_select
from app.auth.service import can_add_region_under, can_manage_region, require
from app.console.access import ADMINS, invalid, me, paginate, roles, search_term, visible_or_404
from app.errors import DomainError
from app.extensions import db
from app.regions.models import Region
from app.regions.service import create_region, delete_region, rename_region


@roles(ADMINS)
def index():
    user = me()
    q = search_term()
    where = [Region.name.contains(q, autoescape=True)] if q else []
    page = paginate(scoped_select(Region, user, *where).order_by(Region.path))
    ids = [r.id for r in page.items]
    child_counts = dict(
        db.session.execute(
            select(Region.parent_id, func.count()).where(Region.parent_id.in_(ids)).group_by(Region.parent_id)
        ).all()
    )
    root_depth = user.region.level_enum.depth if user.region else 0
    return render_template(
        "console/regions/list.html",
        page=page,
        q=q,
        child_counts=child_counts,
        root_depth=root_depth,
        can_manage=lambda r: can_manage_region(user, r),
        can_add=lambda r: r.level_enum.child() is not None and can_add_region_under(user, r),
    )


@roles(ADMINS)
def new_child(region_id: int):
    parent = visible_or_404(Region, region_id)
    require(can_add_region_under(me(), parent) and parent.level_enum.child() is not None)
    template = "console/regions/form.html"
    context = {"parent": parent, "region": None, "child_level": parent.level_enum.child()}
    if request.method == "GET":
        return render_template(template, form={}, **context)
    try:
        region = create_region(
            code=request.form.get("code", ""), name=request.form.get("name", ""), parent=parent
        )
    except DomainError as exc:
        return invalid(exc, template, form=request.form, **context)
    db.session.commit()
    flash(f"已添加{region.level_label}：{region.name}", "success")
    return redirect(url_for("console.regions"))


@roles(ADMINS)
def edit(region_id: int):
    region = visible_or_404(Region, region_id)
    require(can_manage_region(me(), region))
    template = "console/regions/form.html"
    context = {"region": region, "parent": region.parent, "child_level": None}
    if request.method == "GET":
        return render_template(template, form={"name": region.name, "code": region.code}, **context)
    try:
        rename_region(region, request.form.get("name", ""))
    except DomainError as exc:
        return invalid(exc, template, form=request.form, **context)
    db.session.commit()
    flash("区域名称已保存。", "success")
    return redirect(url_for("console.regions"))


@roles(ADMINS)
def delete(region_id: int):
    region = visible_or_404(Region, region_id)
    require(can_manage_region(me(), region))
    name = region.name
    try:
        delete_region(region)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.region_edit", region_id=region_id))
    db.session.commit()
    flash(f"已删除区域：{name}", "success")
    return redirect(url_for("console.regions"))

"""常用答复: a unit's reusable reply texts, kept by its staff (and the admins who see the unit)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.auth.models import Role
from app.auth.scope import scoped_select
from app.console.access import (
    UNIT_VIEWERS,
    arg_id,
    form_data,
    invalid,
    me,
    paginate,
    pick,
    roles,
    search_term,
    visible_or_404,
)
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.opinions.models import ReplyTemplate
from app.opinions.replies import create_reply_template, delete_reply_template, update_reply_template
from app.units.models import HandlingUnit

FORM = "console/opinions/reply_form.html"


def _units() -> list[HandlingUnit]:
    stmt = scoped_select(HandlingUnit, me(), HandlingUnit.active.is_(True))
    return list(db.session.scalars(stmt.order_by(HandlingUnit.name).limit(500)))


@roles(UNIT_VIEWERS)
def index():
    unit_id = arg_id("unit")
    q = search_term()
    where = []
    if unit_id is not None:
        where.append(ReplyTemplate.unit_id == unit_id)
    if q:
        where.append(
            ReplyTemplate.title.contains(q, autoescape=True) | ReplyTemplate.text.contains(q, autoescape=True)
        )
    stmt = scoped_select(ReplyTemplate, me(), *where).order_by(
        ReplyTemplate.unit_id, ReplyTemplate.title, ReplyTemplate.id
    )
    page = paginate(stmt)
    unit_ids = {t.unit_id for t in page.items}
    names = {
        u.id: u.name
        for u in db.session.scalars(scoped_select(HandlingUnit, me(), HandlingUnit.id.in_(unit_ids)))
    }
    return render_template(
        "console/opinions/replies.html",
        page=page,
        units=_units(),
        unit_id=unit_id,
        unit_names=names,
        q=q,
        is_unit_staff=me().role_enum is Role.UNIT_STAFF,
    )


@roles(UNIT_VIEWERS)
def new():
    units = _units()
    if request.method == "GET":
        chosen = arg_id("unit") or (units[0].id if len(units) == 1 else "")
        return render_template(FORM, form={"unit_id": chosen}, units=units, reply=None)
    data = form_data()
    try:
        unit = pick(HandlingUnit, data.get("unit_id"), "unit_id", "承办单位")
        template = create_reply_template(me(), unit, data)
    except DomainError as exc:
        return invalid(exc, FORM, form=data, units=units, reply=None)
    db.session.commit()
    flash(f"已添加常用答复“{template.title}”。", "success")
    return redirect(url_for("console_opinions.replies", unit=unit.id))


@roles(UNIT_VIEWERS)
def edit(template_id: int):
    template = visible_or_404(ReplyTemplate, template_id)
    units = _units()
    if request.method == "GET":
        form = {"unit_id": template.unit_id, "title": template.title, "text": template.text}
        return render_template(FORM, form=form, units=units, reply=template)
    data = form_data()
    data["unit_id"] = template.unit_id  # a template stays with its unit
    try:
        update_reply_template(me(), template, data)
    except DomainError as exc:
        return invalid(exc, FORM, form=data, units=units, reply=template)
    db.session.commit()
    flash(f"已保存常用答复“{template.title}”。", "success")
    return redirect(url_for("console_opinions.replies", unit=template.unit_id))


@roles(UNIT_VIEWERS)
def delete(template_id: int):
    template = visible_or_404(ReplyTemplate, template_id)
    unit_id, title = template.unit_id, template.title
    try:
        delete_reply_template(me(), template)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console_opinions.replies", unit=unit_id))
    db.session.commit()
    flash(f"已删除常用答复“{title}”。", "success")
    return redirect(url_for("console_opinions.replies", unit=unit_id))

"""固定联系群众 and their contact logs; the 履职档案 of a deputy; the deputies behind."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import Role
from app.auth.scope import scoped_select, visible
from app.auth.service import require
from app.console.access import (
    ADMINS,
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
from app.console_ledger.views import EDITORS, VIEWERS
from app.deputies.models import Deputy
from app.errors import DomainError, NotFound
from app.extensions import db
from app.ledger.archive import (
    CONTACTS_PER_YEAR,
    OUTCOME_LABELS,
    deputies_behind,
    deputy_activities,
    deputy_year_summary,
)
from app.ledger.models import ActivityKind, ContactLog, ContactMode, FixedContact
from app.ledger.service import (
    can_keep_contacts,
    create_fixed_contact,
    delete_contact_log,
    log_contact,
    update_fixed_contact,
)
from app.regions.models import Region
from app.timeutil import local_now

CONTACT_FORM = "console/ledger/contact_form.html"
CONTACT_DETAIL = "console/ledger/contact.html"
DEPUTY_PICKER_LIMIT = 500
BEHIND_ROLES = ADMINS | {Role.STATION_STAFF}


def _year() -> int:
    year = request.args.get("year", type=int) or local_now().year
    return year if 2000 <= year <= 2100 else local_now().year


def _deputy_options() -> list[Deputy]:
    stmt = scoped_select(Deputy, me(), Deputy.active.is_(True)).order_by(Deputy.name, Deputy.id)
    return list(db.session.scalars(stmt.limit(DEPUTY_PICKER_LIMIT)))


@roles(VIEWERS)
def contacts():
    year = _year()
    where: list[Any] = []
    deputy_id = arg_id("deputy")
    if deputy_id is not None:
        where.append(FixedContact.deputy_id == deputy_id)
    q = search_term()
    if q:
        where.append(FixedContact.name.contains(q, autoescape=True))
    stmt = (
        scoped_select(FixedContact, me(), *where)
        .options(selectinload(FixedContact.deputy))
        .order_by(FixedContact.deputy_id, FixedContact.id)
    )
    page = paginate(stmt)
    ids = [c.id for c in page.items]
    counts = dict(
        db.session.execute(
            select(ContactLog.fixed_contact_id, func.count())
            .where(
                ContactLog.fixed_contact_id.in_(ids),
                ContactLog.contacted_on >= date(year, 1, 1),
                ContactLog.contacted_on < date(year + 1, 1, 1),
            )
            .group_by(ContactLog.fixed_contact_id)
        ).all()
    )
    return render_template(
        "console/ledger/contacts.html",
        page=page,
        counts=counts,
        year=year,
        q=q,
        deputy_id=deputy_id,
        deputies=_deputy_options(),
        required=CONTACTS_PER_YEAR,
        can_create=me().role_enum in EDITORS,
    )


def _contact(contact_id: int) -> FixedContact:
    return visible_or_404(FixedContact, contact_id)


def _kept_contact(contact_id: int) -> FixedContact:
    contact = _contact(contact_id)
    require(can_keep_contacts(me(), contact.deputy), "只能维护您负责的代表的固定联系群众。")
    return contact


@roles(EDITORS)
def contact_new():
    context = {"contact": None, "deputy_options": [(d.id, d.name) for d in _deputy_options()]}
    if request.method == "GET":
        return render_template(CONTACT_FORM, form={"deputy_id": arg_id("deputy") or ""}, **context)
    data = form_data()
    try:
        deputy = pick(Deputy, data.get("deputy_id"), "deputy_id", "代表")
        require(can_keep_contacts(me(), deputy), "只能维护您负责的代表的固定联系群众。")
        contact = create_fixed_contact(deputy, data)
    except NotFound:
        raise
    except DomainError as exc:
        if exc.status == 403:
            raise
        return invalid(exc, CONTACT_FORM, form=data, **context)
    db.session.commit()
    flash("固定联系群众已添加。", "success")
    return redirect(url_for("console_ledger.contact", contact_id=contact.id))


@roles(VIEWERS)
def contact(contact_id: int):
    item = _contact(contact_id)
    return render_template(
        CONTACT_DETAIL,
        contact=item,
        can_keep=me().role_enum in EDITORS and can_keep_contacts(me(), item.deputy),
        modes=list(ContactMode),
        today=local_now().date(),
        year=local_now().year,
        required=CONTACTS_PER_YEAR,
        form={},
    )


@roles(EDITORS)
def contact_edit(contact_id: int):
    item = _kept_contact(contact_id)
    context = {"contact": item, "deputy_options": []}
    if request.method == "GET":
        form = {
            "name": item.name,
            "phone": item.phone,
            "address": item.address,
            "note": item.note,
            "active": item.active,
        }
        return render_template(CONTACT_FORM, form=form, **context)
    data = form_data("active")
    try:
        update_fixed_contact(item, data)
    except DomainError as exc:
        return invalid(exc, CONTACT_FORM, form=data, **context)
    db.session.commit()
    flash("已保存。", "success")
    return redirect(url_for("console_ledger.contact", contact_id=item.id))


def _contact_act(contact_id: int, change, success: str):
    item = _kept_contact(contact_id)
    try:
        change(item)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console_ledger.contact", contact_id=contact_id))
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("console_ledger.contact", contact_id=contact_id))


@roles(EDITORS)
def log_new(contact_id: int):
    data = form_data()
    return _contact_act(contact_id, lambda c: log_contact(c, data, user=me()), "联系记录已登记。")


@roles(EDITORS)
def log_delete(contact_id: int, log_id: int):
    def change(item: FixedContact) -> None:
        log = db.session.get(ContactLog, log_id)
        if log is None or log.fixed_contact_id != item.id:
            raise NotFound()
        delete_contact_log(log)

    return _contact_act(contact_id, change, "联系记录已删除。")


@roles(VIEWERS)
def archive(deputy_id: int):
    deputy = visible_or_404(Deputy, deputy_id)
    year = _year()
    summary = deputy_year_summary(deputy.id, year)
    return render_template(
        "console/ledger/archive.html",
        deputy=deputy,
        year=year,
        summary=summary,
        activities=deputy_activities(deputy.id, year),
        kinds=list(ActivityKind),
        outcome_labels=OUTCOME_LABELS,
        printed_at=local_now(),
    )


@roles(BEHIND_ROLES)
def behind():
    year = _year()
    region_id = arg_id("region")
    region = None
    if region_id is not None:
        region = visible_or_404(Region, region_id)
    rows = deputies_behind(select(Deputy.id).where(visible(Deputy, me())), year, region=region)
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        groups.setdefault(row.region.id, {"region": row.region, "rows": []})["rows"].append(row)
    return render_template(
        "console/ledger/behind.html",
        groups=list(groups.values()),
        total=len(rows),
        year=year,
        region_id=region_id,
        regions=region_options(("city", "district", "town")) if me().role_enum in ADMINS else [],
    )

"""意见办理: the inbox, an opinion's page with the steps this user may take, bulk 交办, contact reveal."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth.models import ADMIN_ROLES, StaffUser
from app.auth.scope import scoped_select
from app.console.access import ADMINS, EVERYONE, form_data, is_safe_next, me, paginate, region_options, roles
from app.deputies.models import Deputy
from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.opinions import scope as _opinion_scope  # noqa: F401  (registers how opinions are scoped)
from app.opinions.inbox import OPEN, SORTS, inbox_select, parse_filter, status_counts
from app.opinions.models import (
    OPINION_STATUS_LABELS,
    SATISFACTION_LABELS,
    Category,
    Channel,
    Opinion,
    OpinionStatus,
    ReplyTemplate,
)
from app.opinions.pipeline import (
    ACTION_LABELS,
    DEADLINE_STATUSES,
    allowed_actions,
    assignable_units,
    current_owner,
    is_accept_late,
    is_overdue,
)
from app.opinions.replies import reply_templates_of
from app.opinions.service import normalise_tracking_no
from app.opinions.similar import similar_opinions
from app.opinions.staff import Contact, reveal_contact, take_action
from app.opinions.staff import bulk_assign as bulk_assign_opinions
from app.stations.models import Placement, Station
from app.template_helpers import mask_name, mask_phone
from app.timeutil import local_now, to_local
from app.units.models import UnitKind

DETAIL = "console/opinions/detail.html"
BULK_MAX = 100
# The order action forms appear in on the opinion page: the usual next step first.
ACTION_ORDER = (
    "accept",
    "assign",
    "classify",
    "reply",
    "feedback",
    "close",
    "reassign",
    "urge",
    "guide",
    "convert",
    "escalate",
    "merge",
    "return",
    "reject",
)


def _categories() -> list[Category]:
    stmt = select(Category).where(Category.active.is_(True)).order_by(Category.sort, Category.name)
    return list(db.session.scalars(stmt))


def category_names() -> dict[str, str]:
    """Code → name for every category, active or not (old opinions keep retired codes)."""
    return {c.code: c.name for c in db.session.scalars(select(Category))}


def _opinion_or_404(tracking_no: str) -> Opinion:
    number = normalise_tracking_no(tracking_no[:64])
    opinion = (
        db.session.scalar(scoped_select(Opinion, me(), Opinion.tracking_no == number)) if number else None
    )
    if opinion is None:
        raise NotFound("未找到该留言，或不在您的管辖范围内。")
    return opinion


# --- the inbox --------------------------------------------------------------------------------


def _url_with(**changes: Any) -> str:
    """This inbox page with some arguments changed (and back to page 1)."""
    args = request.args.to_dict()
    args.pop("page", None)
    for key, value in changes.items():
        if value in (None, "", False):
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("console_opinions.inbox", **args)


def _station_options(user: StaffUser) -> list[Station]:
    stmt = scoped_select(Station, user).order_by(Station.name, Station.id).limit(500)
    return list(db.session.scalars(stmt))


@roles(EVERYONE)
def inbox():
    user = me()
    today = local_now().date()
    filters = parse_filter(request.args)
    page = paginate(inbox_select(user, filters, today))
    is_admin = user.role_enum in ADMIN_ROLES
    return render_template(
        "console/opinions/inbox.html",
        page=page,
        f=filters,
        counts=status_counts(user, filters, today),
        statuses=list(OpinionStatus),
        open_key=OPEN,
        channels=list(Channel),
        sorts=SORTS,
        categories=_categories(),
        category_names=category_names(),
        regions=region_options() if is_admin else [],
        stations=_station_options(user),
        units=assignable_units(user) if is_admin else [],
        can_bulk=is_admin,
        bulk_statuses=(OpinionStatus.CLASSIFIED, OpinionStatus.ESCALATED),
        deadline_statuses=DEADLINE_STATUSES,
        is_overdue=lambda o: is_overdue(o, today),
        is_late=lambda o: is_accept_late(o, today),
        url_with=_url_with,
        to_local=to_local,
    )


@roles(ADMINS)
def bulk_assign():
    user = me()
    back = request.form.get("next", "")
    back = back if is_safe_next(back) else url_for("console_opinions.inbox")
    numbers = list(dict.fromkeys(normalise_tracking_no(n) for n in request.form.getlist("no")))
    numbers = [n for n in numbers if n]
    if not numbers:
        flash("请先勾选要交办的留言。", "error")
        return redirect(back)
    if len(numbers) > BULK_MAX:
        flash(f"一次最多交办 {BULK_MAX} 条留言。", "error")
        return redirect(back)
    found = {
        o.tracking_no: o
        for o in db.session.scalars(scoped_select(Opinion, user, Opinion.tracking_no.in_(numbers)))
    }
    if len(found) != len(numbers):
        # Naming an opinion outside the scope is the same as asking for its page: not found.
        raise NotFound("所选留言中有不在您管辖范围内的，请刷新后重试。")
    try:
        result = bulk_assign_opinions([found[n] for n in numbers], request.form.get("unit_code", ""), user)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    if result.done:
        unit = result.done[0].unit
        flash(f"已将 {len(result.done)} 条留言交办{unit.name}。", "success")
    for number, message in result.failed:
        flash(f"留言 {number} 未能交办：{message}", "error")
    return redirect(back)


# --- an opinion's page ------------------------------------------------------------------------


def _actor_names(opinion: Opinion) -> dict[int, tuple[str, str]]:
    ids = {e.actor_user_id for e in opinion.events if e.actor_user_id}
    if not ids:
        return {}
    users = db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))
    return {u.id: (u.display_name, u.role_label) for u in users}


def _actor_label(event, names: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """Who acted, as (name, role): residents and the system by what they are."""
    if event.actor == "resident":
        return ("群众", "")
    if event.actor == "system":
        return ("系统", "")
    if event.actor_user_id in names:
        return names[event.actor_user_id]
    return (event.actor.removeprefix("staff:"), "")


def _placed_deputies(opinion: Opinion) -> list[Deputy]:
    stmt = (
        select(Deputy)
        .join(Placement, Placement.deputy_id == Deputy.id)
        .where(Placement.station_id == opinion.station_id)
        .order_by(Deputy.name)
    )
    deputies = list(db.session.scalars(stmt))
    if opinion.deputy is not None and opinion.deputy not in deputies:
        deputies.insert(0, opinion.deputy)
    return deputies


def _detail(
    opinion: Opinion,
    *,
    contact: Contact | None = None,
    error: str | None = None,
    error_field: str | None = None,
    failed: str | None = None,
    form: dict | None = None,
    status: int = 200,
):
    user = me()
    today = local_now().date()
    actions = [a for a in ACTION_ORDER if a in set(allowed_actions(opinion, user))]
    units = assignable_units(user) if {"assign", "guide"} & set(actions) else []
    names = _actor_names(opinion)
    merged_here = list(
        db.session.scalars(
            scoped_select(Opinion, user, Opinion.merged_into_id == opinion.id).order_by(Opinion.id).limit(50)
        )
    )
    merged_into = opinion.merged_into
    if (
        merged_into is not None
        and db.session.scalar(scoped_select(Opinion, user, Opinion.id == merged_into.id)) is None
    ):
        merged_into = None  # merged into an opinion this user may not open: say so without a link
    names_by_code = category_names()
    # An H5 opinion carries the name the resident picked; classifying starts from its code.
    codes_by_name = {name: code for code, name in names_by_code.items()}
    classify_default = (
        opinion.category
        if opinion.category in names_by_code
        else codes_by_name.get(opinion.category or "", "")
    )
    response = render_template(
        DETAIL,
        opinion=opinion,
        actions=actions,
        action_labels=ACTION_LABELS,
        status_labels=OPINION_STATUS_LABELS,
        satisfaction_labels=SATISFACTION_LABELS,
        events=[(e, _actor_label(e, names)) for e in opinion.events],
        categories=_categories(),
        category_names=names_by_code,
        classify_default=classify_default,
        units=[u for u in units if u.kind not in (UnitKind.JUDICIAL, UnitKind.PETITION)],
        guide_units=[u for u in units if u.kind in (UnitKind.JUDICIAL, UnitKind.PETITION)],
        deputies=_placed_deputies(opinion) if "convert" in actions else [],
        templates=reply_templates_of(opinion.unit_id) if "reply" in actions else [],
        similar=similar_opinions(opinion, user),
        merged_here=merged_here,
        merged_into=merged_into,
        owner=current_owner(opinion),
        overdue=is_overdue(opinion, today),
        late=is_accept_late(opinion, today),
        contact=contact,
        masked_name=mask_name(opinion.contact_name),
        masked_mobile=mask_phone(opinion.contact_mobile),
        has_contact=bool(opinion.contact_name or opinion.contact_mobile),
        error=error,
        error_field=error_field,
        failed=failed,
        form=form or {},
        to_local=to_local,
    )
    return response, status, {"Cache-Control": "no-store"}


@roles(EVERYONE)
def detail(tracking_no: str):
    return _detail(_opinion_or_404(tracking_no))


def _action_params(opinion: Opinion, action: str) -> dict[str, Any]:
    params = form_data("legal", "major")
    params.pop("action", None)
    if action == "convert":
        params["deputy_ids"] = request.form.getlist("deputy_ids")
    if action == "reply" and not str(params.get("text") or "").strip():
        # The 常用答复 picker works without JavaScript too: a chosen template stands for the text.
        raw = str(params.get("template_id") or "")
        template = (
            db.session.scalar(
                scoped_select(
                    ReplyTemplate,
                    me(),
                    ReplyTemplate.id == int(raw),
                    ReplyTemplate.unit_id == opinion.unit_id,
                )
            )
            if raw.isdigit()
            else None
        )
        if template is not None:
            params["text"] = template.text
    return params


@roles(EVERYONE)
def act(tracking_no: str):
    opinion = _opinion_or_404(tracking_no)
    action = request.form.get("action", "").strip()
    params = _action_params(opinion, action)
    try:
        take_action(opinion, action, me(), params)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        db.session.rollback()
        return _detail(
            opinion, error=exc.message, error_field=exc.field, failed=action, form=params, status=exc.status
        )
    db.session.commit()
    flash(f"已{ACTION_LABELS[action]}：当前状态为“{opinion.status_label}”。", "success")
    return redirect(url_for("console_opinions.detail", tracking_no=opinion.tracking_no))


@roles(EVERYONE)
def reveal(tracking_no: str):
    opinion = _opinion_or_404(tracking_no)
    try:
        contact = reveal_contact(opinion, me())
    except DomainError as exc:
        db.session.rollback()
        return _detail(opinion, error=exc.message, error_field=exc.field, status=exc.status)
    db.session.commit()
    # Shown in this answer only: reloading the page masks it again.
    return _detail(opinion, contact=contact)

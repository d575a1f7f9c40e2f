"""微信绑定 and 代表提醒 in the staff console (``/console/notify``).

- ``bindings``: deputies and staff users of the user's scope, who is bound to WeChat and who
  is not (the unbound cannot get reminders or digests), a one-time code (QR + link) to bind,
  and unbind. Everything through ``app.auth.scope``: nobody outside the scope is found.
- ``reminders``: every reminder the scheduler will send for the coming receptions (each
  placed deputy of each 联系服务群众日, each deputy on duty), when, and where it stands.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from app.auth.models import PUSHED_STAFF_ROLES, Role, StaffUser
from app.auth.scope import get_visible, scoped_select, visible
from app.console.access import ADMINS, me, nav_context, paginate, require_login, roles
from app.deputies.models import Deputy
from app.errors import DomainError, NotFound
from app.extensions import db
from app.notify.binding import bind_url, create_binding, open_binding_of, unbind
from app.notify.models import WeChatBinding
from app.notify.scheduler import _reminder_receptions, lead_label, planned_reminders, reminder_leads
from app.receptions.models import Reception
from app.stations.models import Placement
from app.timeutil import local_now, to_local

bp = Blueprint("console_notify", __name__)
bp.before_request(require_login)
bp.context_processor(nav_context)

BINDERS = ADMINS | {Role.STATION_STAFF}
STATE_LABELS = {
    "sent": "已发送",
    "queued": "已排队",
    "planned": "待发送",
    "unbound": "未绑定微信",
    "missed": "已由后一次提醒代替",
}


def _target(kind: str, ident: int):
    if kind == "deputy":
        return get_visible(Deputy, ident, me())
    if kind == "staff" and me().role_enum in ADMINS:
        user = get_visible(StaffUser, ident, me())
        if user.role in PUSHED_STAFF_ROLES:  # an admin binds their own account like anyone else's
            return user
    raise NotFound("没有找到该人员。")


@roles(BINDERS)
def bindings():
    user = me()
    only_unbound = request.args.get("unbound") == "1"
    deputy_stmt = scoped_select(Deputy, user, Deputy.active.is_(True)).order_by(Deputy.name, Deputy.id)
    if only_unbound:
        deputy_stmt = deputy_stmt.where(Deputy.openid.is_(None))
    page = paginate(deputy_stmt.options(selectinload(Deputy.placements).joinedload(Placement.station)))
    staff = []
    if user.role_enum in ADMINS:
        staff_stmt = scoped_select(
            StaffUser, user, StaffUser.active.is_(True), StaffUser.role.in_(PUSHED_STAFF_ROLES)
        ).order_by(StaffUser.display_name)
        if only_unbound:
            staff_stmt = staff_stmt.where(StaffUser.openid.is_(None))
        staff = db.session.scalars(staff_stmt.limit(500)).all()
    unbound_count = db.session.scalar(
        scoped_select(Deputy, user, Deputy.active.is_(True), Deputy.openid.is_(None))
        .with_only_columns(db.func.count())
        .order_by(None)
    )
    return render_template(
        "console/notify/bindings.html",
        page=page,
        deputies=page.items,
        staff=staff,
        only_unbound=only_unbound,
        unbound_count=unbound_count,
        open_code=open_binding_of,
    )


@roles(BINDERS)
def create_code(kind: str, ident: int):
    target = _target(kind, ident)
    binding = create_binding(target, me())
    db.session.commit()
    return redirect(url_for("console_notify.code", binding_id=binding.id))


@roles(BINDERS)
def unbind_target(kind: str, ident: int):
    target = _target(kind, ident)
    try:
        unbind(target, me())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console_notify.bindings"))
    db.session.commit()
    flash("已解除微信绑定。", "success")
    return redirect(url_for("console_notify.bindings"))


def _visible_binding(binding_id: int) -> WeChatBinding:
    binding = db.session.get(WeChatBinding, binding_id) if 0 < binding_id < 2**31 else None
    if binding is None:
        raise NotFound("没有找到该绑定码。")
    kind = "deputy" if binding.deputy_id else "staff"
    _target(kind, binding.deputy_id or binding.staff_user_id)  # 404 outside the user's scope
    return binding


@roles(BINDERS)
def code(binding_id: int):
    binding = _visible_binding(binding_id)
    name = binding.deputy.name if binding.deputy_id else binding.staff_user.display_name
    return render_template(
        "console/notify/code.html",
        binding=binding,
        name=name,
        link=bind_url(binding),
        expires=to_local(binding.expires_at),
    )


@roles(BINDERS)
def code_qr(binding_id: int):
    """The code as a QR image: WeChat's temporary QR when we have it, else the H5 link."""
    import qrcode
    import qrcode.image.svg

    binding = _visible_binding(binding_id)
    image = qrcode.make(binding.qr_url or bind_url(binding), image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@roles(ADMINS | {Role.STATION_STAFF})
def reminders():
    user = me()
    now = local_now()
    days = 62  # this month's and next month's 联系服务群众日
    receptions = _reminder_receptions(now, days, visible(Reception, user), limit=40)
    plan = planned_reminders(now, receptions)
    return render_template(
        "console/notify/reminders.html",
        plan=plan,
        receptions=receptions,
        state_labels=STATE_LABELS,
        leads={lead: lead_label(lead, current_app.config) for lead in reminder_leads(current_app.config)},
        days=days,
    )


# The URL rules attach the views to ``bp``; imported last because they need ``bp``.
from app.notify import console_routes  # noqa: E402, F401

"""The outbox for city admins: every push, its status and WeChat's delivery report, resend of dead rows.

The outbox spans every region (a row is an openid and a message), so the room is the city
admins' alone; the queries and the resend rule are ``app.notify.outbox``, shared with the
staff API.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.console.access import me, paginate, roles
from app.errors import DomainError, NotFound
from app.extensions import db
from app.notify.models import OutboxStatus
from app.notify.outbox import (
    OUTBOX_ROLES,
    RESENDABLE,
    deliveries_of,
    get_outbox_row,
    kinds,
    outbox_select,
    parse_outbox_filter,
    status_counts,
)
from app.notify.outbox import (
    resend as resend_row,
)
from app.timeutil import to_local

CHANNEL_LABELS = {"template": "公众号模板消息", "subscribe": "小程序订阅消息", "customer": "客服消息"}
DELIVERY_LABELS = {"success": "已送达", "failed:user block": "用户拒收", "failed: system failed": "发送失败"}


@roles(OUTBOX_ROLES)
def index():
    f = parse_outbox_filter(request.args)
    page = paginate(outbox_select(f))
    return render_template(
        "console/outbox/index.html",
        page=page,
        f=f,
        counts=status_counts(),
        statuses=list(OutboxStatus),
        kinds=kinds(),
        deliveries=deliveries_of(page.items),
        delivery_labels=DELIVERY_LABELS,
        channel_labels=CHANNEL_LABELS,
        resendable=RESENDABLE,
        to_local=to_local,
        here=request.full_path.rstrip("?"),
    )


@roles(OUTBOX_ROLES)
def resend(row_id: int):
    back = request.form.get("next", "")
    if not back.startswith("/console/outbox") or back.startswith("//"):
        back = url_for("console_outbox.index")
    try:
        row = resend_row(get_outbox_row(row_id), me())
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(f"已重新排队发送（第 {row.id} 条，{row.openid}）。", "success")
    return redirect(back)

"""审计日志: who saw which resident's contact and who took which step, for admins and auditors.

City admins read every entry (the system's own included); other admins the entries of the
staff they can see. The CSV export streams, so a year of entries never sits in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import ColumnElement, Select, or_, select

from app.auth.models import Role, StaffUser
from app.auth.scope import visible
from app.console.access import ADMINS, me, paginate, roles
from app.extensions import db
from app.notify.models import AuditEntry
from app.notify.service import audit
from app.opinions.pipeline import ACTION_LABELS
from app.security.masking import mask_phones_in_text
from app.timeutil import local_day_start, local_now, to_local

AUDIT_LABELS = {
    "reveal_contact": "查看群众联系方式",
    "export_audit": "导出审计日志",
    "outbox.resend": "重新发送推送",
    "login_locked": "登录失败过多，锁定用户名",
    "login_unlocked": "解除登录锁定",
    "retention_anonymise": "超过保留期，匿名化",
    **{f"opinion.{key}": f"留言{label}" for key, label in ACTION_LABELS.items()},
}
CSV_HEADER = ("时间", "操作人", "姓名", "操作", "对象类型", "对象", "说明")
OBJECT_LABELS = {
    "opinion": "留言",
    "audit_log": "审计日志",
    "outbox": "推送",
    "login": "登录",
    "staff_user": "工作人员账号",
    "booking": "预约",
}
YIELD_PER = 500


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    user: str = ""
    date_from: date | None = None
    date_to: date | None = None
    problem: str | None = None


def _day(raw: str) -> date | None:
    return date.fromisoformat(raw) if raw else None


def parse_audit_filter(args) -> AuditFilter:
    action = str(args.get("action") or "").strip()[:48]
    user = str(args.get("user") or "").strip()[:64]
    try:
        start, end = _day(str(args.get("from") or "").strip()), _day(str(args.get("to") or "").strip())
    except ValueError:
        return AuditFilter(action, user, problem="日期格式应为 年-月-日，已忽略日期条件。")
    return AuditFilter(action, user, start, end)


def _scope(user: StaffUser) -> ColumnElement[bool]:
    by_visible_staff = AuditEntry.actor_user_id.in_(select(StaffUser.id).where(visible(StaffUser, user)))
    if user.role_enum is Role.CITY_ADMIN:
        return or_(by_visible_staff, AuditEntry.actor_user_id.is_(None))
    return by_visible_staff


def audit_select(user: StaffUser, f: AuditFilter) -> Select:
    """The entries this admin may read that match ``f``, newest first."""
    where = [_scope(user)]
    if f.action:
        where.append(AuditEntry.action == f.action)
    if f.user:
        where.append(AuditEntry.actor.contains(f.user, autoescape=True))
    if f.date_from:
        where.append(AuditEntry.at >= local_day_start(f.date_from))
    if f.date_to:
        where.append(AuditEntry.at < local_day_start(f.date_to + timedelta(days=1)))
    return select(AuditEntry).where(*where).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _with_actor(stmt: Select) -> Select:
    return stmt.add_columns(StaffUser).outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_user_id)


@roles(ADMINS)
def index():
    f = parse_audit_filter(request.args)
    page = paginate(audit_select(me(), f))
    ids = {entry.actor_user_id for entry in page.items if entry.actor_user_id}
    actors = (
        {u.id: u for u in db.session.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))} if ids else {}
    )
    return render_template(
        "console/opinions/audit.html",
        page=page,
        actors=actors,
        f=f,
        labels=AUDIT_LABELS,
        object_labels=OBJECT_LABELS,
        to_local=to_local,
        export_args=request.args.to_dict(),
    )


def _cell(value: object) -> str:
    """A CSV cell Excel will not run as a formula, with any mobile number in it masked."""
    text = mask_phones_in_text("" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rows(stmt: Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    # The BOM tells Excel the file is UTF-8, or Chinese turns into mojibake.
    yield "\ufeff"
    writer.writerow(CSV_HEADER)
    yield flush()
    for entry, actor in db.session.execute(stmt.execution_options(yield_per=YIELD_PER)):
        writer.writerow(
            [
                _cell(to_local(entry.at).strftime("%Y-%m-%d %H:%M:%S")),
                _cell(entry.actor),
                _cell(actor.display_name if actor is not None else ""),
                _cell(AUDIT_LABELS.get(entry.action, entry.action)),
                _cell(OBJECT_LABELS.get(entry.object_type, entry.object_type)),
                _cell(entry.object_id),
                _cell(entry.detail),
            ]
        )
        yield flush()


@roles(ADMINS)
def export():
    user = me()
    f = parse_audit_filter(request.args)
    # Exporting is itself something an auditor wants to see.
    conditions = "，".join(
        part
        for part in (
            f.action and f"操作={f.action}",
            f.user and f"操作人={f.user}",
            f.date_from and f"自={f.date_from}",
            f.date_to and f"至={f.date_to}",
        )
        if part
    )
    audit(user, "export_audit", "audit_log", "-", conditions or "全部")
    db.session.commit()
    filename = f"audit-{local_now():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(_rows(_with_actor(audit_select(user, f)))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )

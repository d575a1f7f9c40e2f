"""Matrix rows for 意见办理 (app/console_opinions), added to tests/console/matrix.py's ROWS and SETUP.

Only tests/console/matrix.py imports this module (after its ``Row`` exists). Each side's
station gets three opinions, all received through the side's deputy so every role of the
side has something to see: one pending, one classified, one assigned to the side's unit;
and the unit gets one 常用答复.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import Role
from app.console.access import ADMINS, EVERYONE, UNIT_VIEWERS
from app.extensions import db
from app.opinions.models import Opinion, OpinionStatus, ReplyTemplate
from app.opinions.service import submit_opinion
from app.timeutil import local_now
from tests.auth.world import Side
from tests.console.matrix import Row

HANDLERS = ADMINS | {Role.STATION_STAFF}
UNIT = frozenset({Role.UNIT_STAFF})
CONTACT_NAME = "矩阵群众"


def _opinion(s: Side, label: str, **fields) -> Opinion:
    content = f"矩阵留言{label}：小区门口的路灯坏了两个星期"
    found = db.session.scalar(
        select(Opinion).where(Opinion.station_id == s.station.id, Opinion.content == content)
    )
    if found is not None:
        return found
    opinion = submit_opinion(
        station=s.station,
        content=content,
        channel="h5",
        resident_id=f"matrix-{s.key}",
        contact_name=CONTACT_NAME,
        contact_mobile="13600001111",
        deputy=s.deputy,
    )
    for name, value in fields.items():
        setattr(opinion, name, value)
    db.session.flush()
    return opinion


def pending_of(s: Side) -> Opinion:
    return _opinion(s, "待受理")


def classified_of(s: Side) -> Opinion:
    return _opinion(s, "已分类", status=OpinionStatus.CLASSIFIED, category="urban")


def assigned_of(s: Side) -> Opinion:
    """Assigned to the side's unit, due in ten days."""
    return _opinion(
        s,
        "已交办",
        status=OpinionStatus.ASSIGNED,
        category="urban",
        unit=s.unit,
        deadline=local_now().date() + timedelta(days=10),
    )


def template_of(s: Side) -> ReplyTemplate:
    title = f"矩阵答复{s.key}"
    found = db.session.scalar(select(ReplyTemplate).where(ReplyTemplate.title == title))
    if found is not None:
        return found
    template = ReplyTemplate(unit_id=s.unit.id, title=title, text="已安排维修，三个工作日内修复。")
    db.session.add(template)
    db.session.flush()
    return template


SETUP = [pending_of, classified_of, assigned_of, template_of]

ROWS = [
    Row(
        "console_opinions.inbox",
        "GET",
        lambda s: "/console/opinions/?q=矩阵留言&sort=deadline",
        EVERYONE,
        scoped=False,
        shows=lambda s: assigned_of(s).tracking_no,
    ),
    Row(
        "console_opinions.bulk_assign",
        "POST",
        lambda s: "/console/opinions/bulk-assign",
        ADMINS,
        data=lambda s: {
            "no": classified_of(s).tracking_no,
            "unit_code": s.unit.code,
            "next": "/console/opinions/",
        },
    ),
    Row(
        "console_opinions.detail",
        "GET",
        lambda s: f"/console/opinions/{assigned_of(s).tracking_no}",
        EVERYONE,
        shows=lambda s: assigned_of(s).content,
    ),
    Row(
        "console_opinions.act",
        "POST",
        lambda s: f"/console/opinions/{pending_of(s).tracking_no}/actions",
        HANDLERS,
        data=lambda s: {"action": "accept", "note": "矩阵受理"},
    ),
    Row(
        "console_opinions.act",
        "POST",
        lambda s: f"/console/opinions/{assigned_of(s).tracking_no}/actions",
        UNIT,
        data=lambda s: {"action": "reply", "text": "已安排维修。"},
    ),
    Row(
        "console_opinions.reveal",
        "POST",
        lambda s: f"/console/opinions/{assigned_of(s).tracking_no}/contact",
        EVERYONE,
        ok=200,
        shows=lambda s: CONTACT_NAME,
    ),
    Row(
        "console_opinions.replies",
        "GET",
        lambda s: "/console/opinions/replies/",
        UNIT_VIEWERS,
        scoped=False,
        shows=lambda s: template_of(s).title,
    ),
    Row(
        "console_opinions.reply_new",
        "GET",
        lambda s: f"/console/opinions/replies/new?unit={s.unit.id}",
        UNIT_VIEWERS,
        scoped=False,  # the unit in the URL only preselects; the form offers the caller's units
        shows=lambda s: s.unit.name,
    ),
    Row(
        "console_opinions.reply_new",
        "POST",
        lambda s: "/console/opinions/replies/new",
        UNIT_VIEWERS,
        data=lambda s: {
            "unit_id": s.unit.id,
            "title": "新的常用答复",
            "text": "感谢您的意见，已转有关部门。",
        },
    ),
    Row(
        "console_opinions.reply_edit",
        "GET",
        lambda s: f"/console/opinions/replies/{template_of(s).id}/edit",
        UNIT_VIEWERS,
        shows=lambda s: template_of(s).title,
    ),
    Row(
        "console_opinions.reply_edit",
        "POST",
        lambda s: f"/console/opinions/replies/{template_of(s).id}/edit",
        UNIT_VIEWERS,
        data=lambda s: {"title": "改过的答复", "text": "已修复。"},
    ),
    Row(
        "console_opinions.reply_delete",
        "POST",
        lambda s: f"/console/opinions/replies/{template_of(s).id}/delete",
        UNIT_VIEWERS,
    ),
    Row("console_opinions.audit", "GET", lambda s: "/console/opinions/audit/", ADMINS, scoped=False),
    Row(
        "console_opinions.audit_export",
        "GET",
        lambda s: "/console/opinions/audit/export.csv",
        ADMINS,
        scoped=False,
    ),
]

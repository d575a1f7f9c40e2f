"""Receptions and the outbox as the staff API creates, lists and resends them.

A reception is created through ``create_reception`` (the console's rule, which queues the
公告接待时间 push to the station's willing followers when it is announced); the station is
looked up through the scope helper, so a station outside the caller's scope is 404. The
outbox has no region: city admins only (``app.notify.outbox``), everyone else 403.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import scoped_select
from app.auth.service import require
from app.errors import NotFound
from app.extensions import db
from app.notify.models import OutboxMessage
from app.notify.outbox import (
    OutboxFilter,
    deliveries_of,
    get_outbox_row,
    may_see_outbox,
    outbox_select,
    resend,
    status_counts,
)
from app.receptions.models import Reception
from app.receptions.service import can_run_receptions, create_reception
from app.stations.models import Station

STATION_NOT_FOUND = "未找到该家站点，或不在您的管辖范围内。"
OUTBOX_ONLY = "推送记录不分区域，只有市级管理员可以查看和重发。"
# As in the console: admins and station staff run receptions; deputies and units do not.
RECEPTION_RUNNERS = frozenset(ADMIN_ROLES) | {Role.STATION_STAFF}


def create_for(user: StaffUser, data: dict) -> Reception:
    """Plan (and, when asked, announce) a reception at a station of the caller's scope."""
    require(user.role_enum in RECEPTION_RUNNERS, "您的角色不能安排接待活动。")
    station = db.session.scalar(scoped_select(Station, user, Station.code == data["station_code"]))
    if station is None:
        raise NotFound(STATION_NOT_FOUND)
    require(can_run_receptions(user, station), "只能为您负责的家站点安排接待活动。")
    fields = {name: data.get(name) for name in ("kind", "date", "start", "end", "topic")}
    for name in ("slot_minutes", "slot_capacity"):
        if data.get(name) is not None:
            fields[name] = str(data[name])
    return create_reception(station, fields, deputy_ids=data["deputies"], announce=data["announce"])


def reception_out(reception: Reception) -> dict:
    """A reception as the staff API answers, with how many announcement pushes it queued."""
    from app.notify.fanout import late_announcement_warning

    queued = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedup_key.like(f"announce:{reception.id}:%"))
    )
    return {
        "id": reception.id,
        "station_code": reception.station.code,
        "station_name": reception.station.name,
        "date": reception.date,
        "start": f"{reception.start:%H:%M}",
        "end": f"{reception.end:%H:%M}",
        "kind": reception.kind,
        "kind_label": reception.kind_label,
        "topic": reception.topic,
        "status": reception.status,
        "status_label": reception.status_label,
        "slot_minutes": reception.slot_minutes,
        "slot_capacity": reception.slot_capacity,
        "deputies": [{"id": d.id, "name": d.name} for d in reception.deputies],
        "announced_at": reception.announced_at,
        "pushes_queued": queued or 0,
        "warnings": [w for w in [late_announcement_warning(reception)] if w],
    }


def outbox_item(row: OutboxMessage, delivery: str | None) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "channel": row.channel,
        "openid": row.openid,
        "status": row.status,
        "status_label": row.status_label,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "dedup_key": row.dedup_key,
        "next_attempt_at": row.next_attempt_at,
        "sent_at": row.sent_at,
        "delivery": delivery,
    }


def list_outbox(user: StaffUser, args: dict) -> dict:
    """One page of the outbox, newest first, filtered; city admins only."""
    require(may_see_outbox(user), OUTBOX_ONLY)
    f = OutboxFilter(args.get("status") or "", args.get("kind") or "", args.get("openid") or "")
    page = db.paginate(outbox_select(f), page=args["page"], per_page=args["per_page"], error_out=False)
    deliveries = deliveries_of(page.items)
    return {
        "items": [outbox_item(row, deliveries.get(row.msgid or "")) for row in page.items],
        "total": page.total,
        "page": args["page"],
        "per_page": args["per_page"],
        "counts": status_counts(),
    }


def resend_for(user: StaffUser, row_id: int) -> dict:
    """Queue a dead, undeliverable or review row again; city admins only."""
    require(may_see_outbox(user), OUTBOX_ONLY)
    row = resend(get_outbox_row(row_id), user)
    return outbox_item(row, None)

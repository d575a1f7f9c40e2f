"""公告接待时间: one push per follower of a station when one of its receptions is announced."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.notify import messages
from app.notify.models import OutboxMessage, OutboxStatus

# Rows per INSERT: large enough that 100,000 followers take a few dozen round trips.
CHUNK = 5000


def _insert():
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(OutboxMessage.__table__)


def announce_to_followers(reception) -> int:
    """Queue the announcement for every follower of the station who wants announcements; idempotent.

    In the caller's transaction, as bulk INSERT … ON CONFLICT DO NOTHING on the dedup key
    ``announce:<reception>:<openid>``: announcing again (or a retry) adds nothing. Returns
    how many followers were addressed.
    """
    from app.wechat.models import StationFollow, Subscriber

    openids = db.session.scalars(
        select(Subscriber.openid)
        .join(StationFollow, StationFollow.subscriber_id == Subscriber.id)
        .where(
            StationFollow.station_id == reception.station_id,
            Subscriber.subscribed.is_(True),
            Subscriber.wants_announcements.is_(True),
        )
        .order_by(Subscriber.id)
    ).all()
    if not openids:
        return 0
    message = messages.reception_announced(reception, current_app.config["PUBLIC_BASE_URL"])
    template = current_app.config.get("WECHAT_TEMPLATES", {}).get(message.template_key, message.template_key)
    payload = {"fields": message.data, "url": message.url}
    statement = _insert().on_conflict_do_nothing(index_elements=["dedup_key"])
    for start in range(0, len(openids), CHUNK):
        rows = [
            {
                "kind": message.kind,
                "channel": "template",
                "openid": openid,
                "template": template,
                "data": payload,
                "dedup_key": f"announce:{reception.id}:{openid}",
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "last_error": "",
            }
            for openid in openids[start : start + CHUNK]
        ]
        db.session.execute(statement, rows)
    return len(openids)


def late_announcement_warning(reception, now: datetime | None = None) -> str | None:
    """A warning when a reception is announced fewer than ``ANNOUNCE_MIN_DAYS`` days ahead, else None.

    三(一)2 有工作计划 asks every reception to be 事先提前预告. A late announcement is still
    made and still pushed (residents are better told late than not at all): it is never
    refused, only warned about, in the console and in the staff API's answer.
    """
    from app.timeutil import local_now

    days = int(current_app.config.get("ANNOUNCE_MIN_DAYS", 3))
    if days <= 0 or reception.status != "announced":
        return None
    moment = now or local_now()
    ahead = (reception.date - moment.date()).days
    if ahead >= days:
        return None
    when = "当天" if ahead <= 0 else f"前 {ahead} 天"
    return (
        f"本场接待在活动{when}才公告，少于规定的提前 {days} 天预告；已照常通知关注者，"
        "请今后尽量提前公告，方便群众安排时间预约。"
    )

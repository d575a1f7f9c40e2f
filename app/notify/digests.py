"""Digests: the subscribers' weekly 接待预告 and the daily work summary for staff and admins.

Both are idempotent sweeps keyed by period (``weekly:<monday>:<openid>``,
``digest:<date>:<user>``), so running one twice, or late after downtime, sends each once;
a digest whose moment passed more than a day ago is not sent late (its news is stale).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.notify import messages
from app.notify.fanout import _insert
from app.notify.models import OutboxStatus

# A digest is sent from its moment until this much later, never after.
CATCH_UP = timedelta(days=1)


def _moment(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock))


def weekly_period(now: datetime) -> tuple[date, datetime] | None:
    """The week whose digest is due now (its first day and the digest moment), or None."""
    config = current_app.config
    weekday = int(config.get("DIGEST_WEEKLY_DAY", 0))
    first = now.date() - timedelta(days=(now.weekday() - weekday) % 7)
    moment = _moment(first, config.get("DIGEST_WEEKLY_TIME", "08:00"))
    if now < moment or now >= moment + CATCH_UP:
        return None
    return first, moment


def _queue_rows(rows: list[dict]) -> int:
    """Bulk INSERT … ON CONFLICT DO NOTHING; returns how many were new."""
    if not rows:
        return 0
    from app.notify.models import OutboxMessage

    keys = [r["dedup_key"] for r in rows]
    before = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedup_key.in_(keys))
    )
    db.session.execute(_insert().on_conflict_do_nothing(index_elements=["dedup_key"]), rows)
    after = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedup_key.in_(keys))
    )
    return after - before


def _row(openid: str, message: messages.Message, key: str) -> dict:
    templates = current_app.config.get("WECHAT_TEMPLATES", {})
    return {
        "kind": message.kind,
        "channel": "template",
        "openid": openid,
        "template": templates.get(message.template_key, message.template_key),
        "data": {"fields": message.data, "url": message.url},
        "dedup_key": key,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "last_error": "",
    }


def queue_weekly_digests(now: datetime) -> tuple[int, int]:
    """Each opted-in follower gets the coming week's announced receptions at the stations they follow.

    Returns (queued, followers with something to tell). Followers with nothing that week get nothing.
    """
    from app.receptions.models import Reception, ReceptionStatus
    from app.wechat.models import StationFollow, Subscriber

    period = weekly_period(now)
    if period is None:
        return 0, 0
    first = period[0]
    last = first + timedelta(days=6)
    found = db.session.execute(
        select(Subscriber.openid, Reception)
        .join(StationFollow, StationFollow.subscriber_id == Subscriber.id)
        .join(Reception, Reception.station_id == StationFollow.station_id)
        .where(
            Subscriber.subscribed.is_(True),
            Subscriber.wants_weekly_digest.is_(True),
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.date >= max(first, now.date()),
            Reception.date <= last,
        )
        .order_by(Subscriber.openid, Reception.date, Reception.start)
    ).all()
    by_follower: dict[str, list] = defaultdict(list)
    for openid, reception in found:
        by_follower[openid].append(reception)
    base_url = current_app.config["PUBLIC_BASE_URL"]
    rows = [
        _row(openid, messages.weekly_digest(receptions, first, base_url), f"weekly:{first}:{openid}")
        for openid, receptions in by_follower.items()
    ]
    return _queue_rows(rows), len(by_follower)


def staff_digest_due(now: datetime) -> bool:
    return _moment(now.date(), current_app.config.get("DIGEST_DAILY_TIME", "08:30")) <= now


def staff_work(user, today: date) -> dict[str, int]:
    """What waits for a station's or unit's staff today, or what a town, district or city admin
    should supervise (督办) in their region: counts by kind (empty when nothing)."""
    from app.auth.models import ADMIN_ROLES
    from app.auth.scope import station_ids_under
    from app.opinions.inbox import late_condition, overdue_condition, todo_condition
    from app.opinions.models import Opinion, OpinionStatus

    STATION_TODO = (OpinionStatus.ACCEPTED, OpinionStatus.CLASSIFIED, OpinionStatus.REPLIED)

    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(Opinion).where(*where)) or 0

    if user.station_id is not None:
        at = Opinion.station_id == user.station_id
        work = {
            "新留言待受理": count(at, Opinion.status == OpinionStatus.PENDING),
            "待交办或反馈": count(at, Opinion.status.in_(STATION_TODO)),
            "承办逾期": count(at, overdue_condition(today)),
        }
    elif user.unit_id is not None:
        mine = Opinion.unit_id == user.unit_id
        work = {
            "待办理": count(todo_condition(user)),  # what the unit's inbox lists as 待办
            "已逾期": count(mine, overdue_condition(today)),
        }
    elif user.role in ADMIN_ROLES and user.region is not None:
        # The inbox's and dashboard's definitions of late and overdue, over the region's stations, and the
        # opinions reported up to this region's 人大 (上报) still open. Short labels: the
        # template's field holds 20 characters.
        under = Opinion.station_id.in_(station_ids_under(user.region.path))
        work = {
            "上报待办": count(
                Opinion.owner_region_id == user.region_id, Opinion.status == OpinionStatus.ESCALATED
            ),
            "受理逾期": count(under, late_condition(today)),
            "承办逾期": count(under, overdue_condition(today)),
        }
    else:
        return {}
    return {k: v for k, v in work.items() if v}


def queue_staff_digests(now: datetime) -> tuple[int, list[str]]:
    """The daily digest to each station and unit staff user with work waiting, and to each admin
    with something to supervise in their region: (queued, unbound names)."""
    from app.auth.models import PUSHED_STAFF_ROLES, StaffUser

    if not staff_digest_due(now):
        return 0, []
    today = now.date()
    users = db.session.scalars(
        select(StaffUser)
        .where(
            StaffUser.active.is_(True),
            StaffUser.role.in_(PUSHED_STAFF_ROLES),
        )
        .order_by(StaffUser.id)
    ).all()
    base_url = current_app.config["PUBLIC_BASE_URL"]
    rows, unbound = [], []
    for user in users:
        work = staff_work(user, today)
        if not work:
            continue
        if not user.openid:
            unbound.append(user.display_name)
            continue
        message = messages.staff_digest(user, work, today, base_url)
        rows.append(_row(user.openid, message, f"digest:{today}:{user.id}"))
    return _queue_rows(rows), unbound

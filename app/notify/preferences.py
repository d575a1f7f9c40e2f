"""A follower's choices: which stations they follow, announcements on/off, the weekly digest.

The same rules behind the reply keywords (``退订`` / ``订阅`` / ``订阅周报`` / ``退订周报``),
the menu key and the H5 page ``/me/subscriptions``. Every job honours them: the 公告接待时间
fan-out (``app/notify/fanout.py``) and the weekly digest (``app/notify/digests.py``) read
``subscribed``, ``wants_announcements`` / ``wants_weekly_digest`` and the follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from app.errors import NotFound
from app.extensions import db
from app.stations.models import Station
from app.wechat.models import StationFollow, Subscriber

NOT_FOLLOWER = "请先关注本公众号（扫描家站点标识牌上的二维码），再设置订阅。"


@dataclass(frozen=True)
class Preferences:
    announcements: bool
    weekly_digest: bool
    stations: list[Station]


def follower(openid: str) -> Subscriber:
    """The follower with this openid; ``NotFound`` when they never followed the account."""
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
    if subscriber is None:
        raise NotFound(NOT_FOLLOWER)
    return subscriber


def preferences_of(openid: str) -> Preferences:
    """What this follower receives now."""
    subscriber = follower(openid)
    stations = list(
        db.session.scalars(
            select(Station)
            .join(StationFollow, StationFollow.station_id == Station.id)
            .where(StationFollow.subscriber_id == subscriber.id)
            .order_by(StationFollow.id)
        )
    )
    return Preferences(subscriber.wants_announcements, subscriber.wants_weekly_digest, stations)


def set_preferences(
    openid: str, *, announcements: bool | None = None, weekly_digest: bool | None = None
) -> Preferences:
    """Turn announcements and/or the weekly digest on or off (None: leave as is)."""
    subscriber = follower(openid)
    if announcements is not None:
        subscriber.wants_announcements = announcements
    if weekly_digest is not None:
        subscriber.wants_weekly_digest = weekly_digest
    db.session.flush()
    return preferences_of(openid)


def unfollow_station(openid: str, station_id: int) -> Preferences:
    """Stop following one station (its announcements and digest lines stop with it)."""
    subscriber = follower(openid)
    db.session.execute(
        delete(StationFollow).where(
            StationFollow.subscriber_id == subscriber.id, StationFollow.station_id == station_id
        )
    )
    db.session.flush()
    return preferences_of(openid)


def describe(prefs: Preferences) -> str:
    """The follower's settings in one Chinese paragraph (replies and the H5 page)."""
    on_off = {True: "开启", False: "关闭"}
    names = "、".join(s.name for s in prefs.stations[:5]) or "（尚未关注家站点）"
    more = f"等 {len(prefs.stations)} 个" if len(prefs.stations) > 5 else ""
    return (
        f"接待公告：{on_off[prefs.announcements]}；每周接待预告：{on_off[prefs.weekly_digest]}。\n"
        f"关注的家站点：{names}{more}。"
    )

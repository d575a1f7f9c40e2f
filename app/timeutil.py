"""Local time: receptions, deadlines and service days are in the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_now() -> datetime:
    """Now, as a naive datetime in local (Beijing) time, to compare with reception dates and times."""
    return datetime.now(UTC).astimezone(LOCAL_TZ).replace(tzinfo=None)


def local_day_start(day: date) -> datetime:
    """Local midnight of ``day`` as the aware UTC instant stored timestamps are compared with."""
    return datetime.combine(day, time()).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """An aware UTC datetime (as stored) shown in local time, naive."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)

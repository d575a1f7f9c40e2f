"""Rules for receptions: the third Tuesday, and who is on duty when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
from app.stations.models import Station


def third_tuesday(year: int, month: int) -> date:
    """三(二)2: 每月第三周的星期二 is the 代表联系服务群众日."""
    first = date(year, month, 1)
    first_tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + timedelta(weeks=2)


@dataclass
class Duty:
    """Who is receiving residents at a station now, and the next announced receptions."""

    now: Reception | None = None
    next: list[Reception] = field(default_factory=list)


def duty_at(station: Station, moment: datetime, *, upcoming: int = 3) -> Duty:
    """The announced reception under way at ``moment`` (local time) and the next ones."""
    today, clock = moment.date(), moment.time()
    base = (
        select(Reception)
        .where(Reception.station_id == station.id, Reception.status == ReceptionStatus.ANNOUNCED)
        .options(selectinload(Reception.duties).selectinload(ReceptionDuty.deputy))
    )
    current = db.session.scalars(
        base.where(Reception.date == today, Reception.start <= clock, Reception.end > clock)
    ).first()
    later = db.session.scalars(
        base.where(or_(Reception.date > today, and_(Reception.date == today, Reception.start > clock)))
        .order_by(Reception.date, Reception.start)
        .limit(upcoming)
    ).all()
    return Duty(now=current, next=list(later))

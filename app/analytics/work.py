"""Station work: receptions planned and held, 联系服务群众日 per month, residents received,
deputies' participation (definitions in ``app.analytics.kpi.WORK_KPIS``).

Receptions are few (one service day a station a month, plus the others), so these are counted
live from the rows, through the same scope as every console list.

Deliberately not the 台账's facts (``app.ledger.archive.station_year_facts_many``, which the star
rating scores): there a 联系服务群众日 is held when its activity is registered, residents received
are what staff wrote in the activity, and a deputy took part when marked present. The dashboard
answers for any period and region as things happen, before staff register anything (they have
7 days to): a service day is held once announced and its day has come, residents received are
the bookings marked present plus the opinions staff collected there, and a deputy took part when
on duty. The rating is an assessment and rests on the registered record; this is the live view.
The opinion side is shared: 反馈 is ``app.analytics.kpi.fed_back_condition`` for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import and_, case, func, select

from app.analytics.kpi import Filters, months_between, next_month, place_conditions
from app.auth.scope import Scope, visible
from app.extensions import db
from app.opinions.models import Channel, Opinion
from app.receptions.models import (
    Booking,
    BookingStatus,
    Reception,
    ReceptionDuty,
    ReceptionKind,
    ReceptionStatus,
)
from app.stations.models import Placement, Station


def _reception_conditions(scope: Scope, f: Filters) -> list:
    where = [
        visible(Reception, scope),
        Reception.date >= f.date_from,
        Reception.date <= f.date_to,
        Reception.status != ReceptionStatus.CANCELLED,
    ]
    where += place_conditions(f, Reception.station_id)
    return where


def held_condition(today: date):
    """三(二)2: a reception counts as held once announced and its day has come."""
    return and_(Reception.status == ReceptionStatus.ANNOUNCED, Reception.date <= today)


@dataclass
class WorkFigures:
    receptions_planned: int = 0
    receptions_held: int = 0
    service_days_held: int = 0
    residents_received: int = 0
    deputies_placed: int = 0
    deputies_on_duty: int = 0
    service_days_by_month: dict[date, int] = field(default_factory=dict)

    @property
    def deputies_participation(self) -> float | None:
        return self.deputies_on_duty / self.deputies_placed if self.deputies_placed else None

    def value(self, key: str):
        return getattr(self, key)


def work_figures(scope: Scope, f: Filters, today: date) -> WorkFigures:
    """The period's reception figures for what the scope and filters select."""
    where = _reception_conditions(scope, f)
    held = held_condition(today)
    is_service_day = Reception.kind == ReceptionKind.SERVICE_DAY
    out = WorkFigures()
    months = months_between(f.date_from, f.date_to)
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((held, 1), else_=0)),
            func.sum(case((and_(held, is_service_day), 1), else_=0)),
            *_per_month(months, held, is_service_day),
        ).where(*where)
    ).one()
    out.receptions_planned = int(row[0] or 0)
    out.receptions_held = int(row[1] or 0)
    out.service_days_held = int(row[2] or 0)
    held_ids = select(Reception.id).where(*where, held)
    attended = db.session.scalar(
        select(func.count()).where(
            Booking.reception_id.in_(held_ids), Booking.status == BookingStatus.ATTENDED
        )
    )
    collected = db.session.scalar(
        select(func.count()).where(Opinion.reception_id.in_(held_ids), Opinion.channel == Channel.STAFF)
    )
    out.residents_received = int(attended or 0) + int(collected or 0)
    stations = select(Station.id).where(visible(Station, scope), *place_conditions(f, Station.id))
    placed = select(Placement.deputy_id).where(Placement.station_id.in_(stations)).distinct()
    out.deputies_placed = int(db.session.scalar(select(func.count()).select_from(placed.subquery())) or 0)
    on_duty = (
        select(ReceptionDuty.deputy_id)
        .where(ReceptionDuty.reception_id.in_(held_ids), ReceptionDuty.deputy_id.in_(placed))
        .distinct()
    )
    out.deputies_on_duty = int(db.session.scalar(select(func.count()).select_from(on_duty.subquery())) or 0)
    out.service_days_by_month = {m: int(n or 0) for m, n in zip(months, row[3:], strict=True)}
    return out


def _per_month(months: list[date], *conditions) -> list:
    """One SUM per month: how many receptions meeting ``conditions`` fall in that month."""
    return [
        func.sum(case((and_(*conditions, Reception.date >= m, Reception.date < next_month(m)), 1), else_=0))
        for m in months
    ]


class StationName(NamedTuple):
    id: int
    name: str


@dataclass
class HeatRow:
    station: StationName
    cells: list[int]  # service days held in each month


def service_day_heat(
    scope: Scope, f: Filters, today: date, limit: int = 400
) -> tuple[list[date], list[HeatRow]]:
    """Stations × months: how many 联系服务群众日 each station held (附件3: at least one a month).

    One statement: the stations, each joined to its service days held in the period and
    counted per month in SQL, so Python reads one row per station (not one per service day).
    """
    months = months_between(f.date_from, f.date_to)
    held_days = and_(
        Reception.station_id == Station.id,
        Reception.date >= f.date_from,
        Reception.date <= f.date_to,
        held_condition(today),
        Reception.kind == ReceptionKind.SERVICE_DAY,
    )
    stmt = (
        select(Station.id, Station.name, *_per_month(months))
        .select_from(Station)
        .outerjoin(Reception, held_days)
        .where(visible(Station, scope), *place_conditions(f, Station.id))
        .group_by(Station.id)
        .order_by(Station.region_id, Station.name)
        .limit(limit)
    )
    rows = db.session.execute(stmt)
    return months, [HeatRow(StationName(row[0], row[1]), [int(n or 0) for n in row[2:]]) for row in rows]

"""How receptions and their bookings are scoped: by the station they take place at."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from app.auth.scope import Scope, register_scope, visible
from app.receptions.models import Booking, Reception, ReceptionDuty
from app.stations.models import Station


def receptions_visible(scope: Scope) -> ColumnElement[bool]:
    return Reception.station_id.in_(select(Station.id).where(visible(Station, scope)))


def _duties(scope: Scope) -> ColumnElement[bool]:
    return ReceptionDuty.reception_id.in_(select(Reception.id).where(receptions_visible(scope)))


def _bookings(scope: Scope) -> ColumnElement[bool]:
    return Booking.reception_id.in_(select(Reception.id).where(receptions_visible(scope)))


register_scope(Reception, receptions_visible)
register_scope(ReceptionDuty, _duties)
register_scope(Booking, _bookings)

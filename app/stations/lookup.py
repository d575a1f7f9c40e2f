"""Stations by their public code, for paths that read one on every request (QR scans).

A plaque's QR carries the station's code; every SCAN asks for the station's name, address
and phone. They change a few times a year, so each worker keeps them for a minute and
forgets them the moment it writes a station itself (``app.local_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.extensions import db
from app.local_cache import app_cache
from app.stations.models import Station, StationStatus

# Other workers see a station's edit (name, address, suspension) within this many seconds.
STATION_CACHE_S = 60

_stations = Station.__table__
_BY_CODE = select(
    _stations.c.id,
    _stations.c.code,
    _stations.c.name,
    _stations.c.address,
    _stations.c.phone,
    _stations.c.status,
).where(_stations.c.code == bindparam("code"))


@dataclass(frozen=True)
class StationRef:
    """What a QR scan needs of a station: a read-only snapshot, never an ORM object."""

    id: int
    code: str
    name: str
    address: str
    phone: str
    status: str

    @property
    def is_active(self) -> bool:
        return self.status == StationStatus.ACTIVE


def station_ref(code: str) -> StationRef | None:
    """The station with this exact code (any status), from the cache when fresh."""
    cache = app_cache("stations_by_code", STATION_CACHE_S, (Station,))
    return cache.get(code, lambda: _load(code))


def _load(code: str) -> StationRef | None:
    row = db.session.execute(_BY_CODE, {"code": code}).first()
    return StationRef(*row) if row is not None else None

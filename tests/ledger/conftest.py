"""A station with deputies and staff, and builders for ledger rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import pytest

from app.auth.models import Role, StaffUser
from app.deputies.models import Deputy
from app.extensions import db
from app.opinions.models import Opinion
from app.regions.models import Region
from app.stations.models import Station
from tests.factories import build_reception


@dataclass
class LedgerWorld:
    tree: dict[str, Region]
    station: Station
    other_station: Station  # in the sibling district "b"
    deputies: list[Deputy]
    staff: StaffUser
    other_staff: StaffUser


@pytest.fixture
def lw(region_tree, make_station, make_deputy, make_user) -> LedgerWorld:
    tree = region_tree()
    station = make_station(tree["village_a"])
    other = make_station(tree["village_b"])
    deputies = [make_deputy(tree["town_a"], name=f"代表甲{i}", station=station) for i in range(3)]
    make_deputy(tree["town_b"], name="外区代表", station=other)
    staff = make_user(Role.STATION_STAFF, station)
    other_staff = make_user(Role.STATION_STAFF, other)
    return LedgerWorld(tree, station, other, deputies, staff, other_staff)


def make_opinion(
    station: Station, *, status: str = "pending", reception=None, deputy=None, content="路灯不亮"
) -> Opinion:
    from app.opinions.service import new_tracking_no

    opinion = Opinion(
        tracking_no=new_tracking_no(),
        channel="staff",
        station_id=station.id,
        reception_id=reception.id if reception else None,
        deputy_id=deputy.id if deputy else None,
        content=content,
        status=status,
    )
    db.session.add(opinion)
    db.session.flush()
    return opinion


def past_reception(station, deputies, *, day=date(2026, 3, 17), **kw):
    return build_reception(station, deputies, day=day, start=time(9), end=time(11), **kw)

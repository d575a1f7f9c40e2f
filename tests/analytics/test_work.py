"""Station work figures and the service-day heat table equal an independent recount of the rows.

Receptions of every kind and status, in and out of the period, past and future, at stations of
both districts; deputies placed, on duty or not; bookings attended or not; opinions collected by
staff at a reception. The recount reads the plain rows back and applies the definitions of
``app/analytics/work.py`` by hand.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from app.analytics.kpi import Filters, months_between
from app.analytics.work import service_day_heat, work_figures
from app.auth.scope import scope_of
from app.extensions import db
from app.opinions.models import Channel, Opinion, OpinionStatus
from app.receptions.models import Booking, BookingStatus, Reception, ReceptionDuty
from app.stations.models import Placement, Station

KINDS = ("service_day", "other")
STATUSES = ("draft", "announced", "cancelled")


@pytest.fixture
def work(place, make_station, make_deputy):
    """A third station in district A, deputies at each, and 60 receptions spread at random."""
    rng = random.Random(20261126)
    station_c = make_station(place.tree["village_a"], name="A村第二联络站")
    stations = [place.station_a, place.station_b, station_c]
    deputies = {s.id: [make_deputy(s.region, station=s) for _ in range(2)] for s in stations}
    outsider = make_deputy(place.tree["village_b"])  # on duty somewhere, placed nowhere
    today = place.today
    for n in range(60):
        station = rng.choice(stations)
        reception = Reception(
            station=station,
            date=today + timedelta(days=rng.randint(-420, 30)),
            start=time(9),
            end=time(11),
            kind=rng.choice(KINDS),
            status=rng.choice(STATUSES),
        )
        on_duty = rng.sample(deputies[station.id], rng.randint(0, 2)) + ([outsider] if n % 7 == 0 else [])
        reception.duties = [ReceptionDuty(deputy=d) for d in on_duty]
        db.session.add(reception)
        db.session.flush()
        for b in range(rng.randint(0, 3)):
            db.session.add(
                Booking(
                    code=f"W{n:03d}{b}",
                    reception_id=reception.id,
                    slot_start=time(9),
                    resident_id=f"oWork{n}-{b}",
                    name="居民",
                    mobile="13800000000",
                    status=rng.choice((BookingStatus.ATTENDED, BookingStatus.BOOKED)),
                )
            )
        for o in range(rng.randint(0, 2)):
            db.session.add(
                Opinion(
                    tracking_no=f"WK{n:03d}{o}XYZ",
                    channel=rng.choice((Channel.STAFF, Channel.WECHAT)),
                    station_id=station.id,
                    reception_id=reception.id,
                    content="接待时收集的意见",
                    status=OpinionStatus.PENDING,
                    accept_due=today,
                )
            )
    db.session.commit()
    return place


def _recount(station_ids: set[int], first: date, last: date, today: date):
    receptions = [
        r
        for r in db.session.scalars(select(Reception))
        if r.station_id in station_ids and first <= r.date <= last and r.status != "cancelled"
    ]
    held = [r for r in receptions if r.status == "announced" and r.date <= today]
    held_ids = {r.id for r in held}
    service_days = [r for r in held if r.kind == "service_day"]
    attended = sum(
        1
        for b in db.session.scalars(select(Booking))
        if b.reception_id in held_ids and b.status == "attended"
    )
    collected = sum(
        1 for o in db.session.scalars(select(Opinion)) if o.reception_id in held_ids and o.channel == "staff"
    )
    placed = {p.deputy_id for p in db.session.scalars(select(Placement)) if p.station_id in station_ids}
    on_duty = {
        d.deputy_id
        for d in db.session.scalars(select(ReceptionDuty))
        if d.reception_id in held_ids and d.deputy_id in placed
    }
    by_station_month = Counter((r.station_id, r.date.replace(day=1)) for r in service_days)
    return {
        "planned": len(receptions),
        "held": len(held),
        "service_days": len(service_days),
        "received": attended + collected,
        "placed": len(placed),
        "on_duty": len(on_duty),
        "by_month": Counter(r.date.replace(day=1) for r in service_days),
        "cells": by_station_month,
    }


@pytest.mark.parametrize("who", ["city", "district_a", "station_a"])
def test_work_figures_and_heat_equal_the_raw_rows(work, who):
    user = work.users[who]
    today = work.today
    first, last = (today - timedelta(days=365)).replace(day=1), today
    f = Filters(first, last)
    scope = scope_of(user)
    if who == "station_a":
        visible = {work.station_a.id}
    else:
        region = work.tree["city" if who == "city" else "district_a"]
        visible = {s.id for s in db.session.scalars(select(Station)) if s.region.path.startswith(region.path)}
    expected = _recount(visible, first, last, today)

    figures = work_figures(scope, f, today)
    assert figures.receptions_planned == expected["planned"]
    assert figures.receptions_held == expected["held"]
    assert figures.service_days_held == expected["service_days"]
    assert figures.residents_received == expected["received"]
    assert figures.deputies_placed == expected["placed"]
    assert figures.deputies_on_duty == expected["on_duty"]
    months = months_between(first, last)
    assert figures.service_days_by_month == {m: expected["by_month"].get(m, 0) for m in months}
    assert expected["service_days"] > 0  # the random spread did reach the period

    heat_months, rows = service_day_heat(scope, f, today)
    assert heat_months == months
    assert {row.station.id for row in rows} == visible
    for row in rows:
        assert row.cells == [expected["cells"].get((row.station.id, m), 0) for m in months], row.station.name

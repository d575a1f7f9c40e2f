"""Who sees which ledger rows: the region chain and the station, never another district."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.auth.models import Role
from app.auth.scope import scoped_select
from app.deputies.models import Deputy
from app.extensions import db
from app.ledger.models import Activity, ActivityPlan, ContactLog, FixedContact
from app.ledger.service import create_activity, create_fixed_contact, log_contact, save_plan

NOW = datetime(2026, 11, 26, 10)


def _ids(model, user) -> set[int]:
    return set(db.session.scalars(scoped_select(model, user).with_only_columns(model.id)))


def test_scope_of_ledger_rows(lw, make_user):
    data = {"kind": "visit", "title": "走访", "date": "2026-06-01"}
    mine = create_activity(lw.station, data, user=lw.staff, deputy_ids=[lw.deputies[0].id], now=NOW)
    foreign_deputy = db.session.scalar(select(Deputy).where(Deputy.name == "外区代表"))
    theirs = create_activity(
        lw.other_station, data, user=lw.other_staff, deputy_ids=[foreign_deputy.id], now=NOW
    )
    plan_a = save_plan(lw.station, 2026, [{"kind": "study", "planned_count": "2"}])
    plan_b = save_plan(lw.other_station, 2026, [{"kind": "study", "planned_count": "2"}])
    contact_a = create_fixed_contact(lw.deputies[0], {"name": "甲"})
    contact_b = create_fixed_contact(foreign_deputy, {"name": "乙"})
    log_a = log_contact(contact_a, {"contacted_on": "2026-02-01"}, today=date(2026, 11, 26))
    log_b = log_contact(contact_b, {"contacted_on": "2026-02-01"}, today=date(2026, 11, 26))

    users = {
        "city": (make_user(Role.CITY_ADMIN, lw.tree["city"]), True, True),
        "district_a": (make_user(Role.DISTRICT_ADMIN, lw.tree["district_a"]), True, False),
        "town_b": (make_user(Role.TOWN_ADMIN, lw.tree["town_b"]), False, True),
        "station_a": (lw.staff, True, False),
        "deputy_a": (make_user(Role.DEPUTY, lw.deputies[0]), True, False),
        "unit": (
            make_user(Role.UNIT_STAFF, _unit(lw)),
            False,
            False,
        ),
    }
    for name, (user, sees_a, sees_b) in users.items():
        for model, a, b in (
            (Activity, mine.id, theirs.id),
            (ActivityPlan, plan_a.id, plan_b.id),
            (FixedContact, contact_a.id, contact_b.id),
            (ContactLog, log_a.id, log_b.id),
        ):
            ids = _ids(model, user)
            assert (a in ids) == sees_a, f"{name} {model.__name__} a"
            assert (b in ids) == sees_b, f"{name} {model.__name__} b"


def _unit(lw):
    from app.units.service import create_unit

    return create_unit(region=lw.tree["town_a"], code="ULEDGER1", data={"name": "测试承办单位"})

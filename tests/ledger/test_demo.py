"""The demo's year of 台账: written once, shows gaps on purpose, and the archive reads it."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo.ledger import seed_ledger
from app.extensions import db
from app.ledger.archive import station_year_facts
from app.ledger.models import Activity, ActivityPlan, FixedContact
from app.timeutil import local_now


def test_seed_ledger_once(lw):
    written = seed_ledger(lw.tree["town_a"].code, lw.station)
    assert written > 0
    assert db.session.scalar(select(func.count()).select_from(ActivityPlan)) == 1
    assert db.session.scalar(select(func.count()).select_from(FixedContact)) == 2 * len(lw.deputies)
    before = db.session.scalar(select(func.count()).select_from(Activity))
    assert seed_ledger(lw.tree["town_a"].code, lw.station) == 0
    assert db.session.scalar(select(func.count()).select_from(Activity)) == before
    facts = station_year_facts(lw.station.id, local_now().year)
    assert facts.activities_final == written and facts.has_plan
    assert facts.study_participation is None or facts.study_participation < 1  # one deputy never comes

"""The stored months: the refresh is idempotent, and what it stores equals the live count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.analytics import kpi
from app.analytics.kpi import Filters, figures, month_start, split_period, totals
from app.analytics.models import CloseDaysMonth, OpinionMonth, WordMonth
from app.analytics.refresh import refresh_aggregates
from app.analytics.words import word_counts
from app.auth.scope import scope_of
from app.extensions import db
from app.models_base import utcnow
from app.notify.scheduler import SWEEPS, run_sweep
from tests.analytics.data import add, at


def _age(place, days: int = 30) -> None:
    """Make every opinion look last changed long ago, as after a quiet month."""
    for opinion in place.data.a + place.data.b:
        opinion.updated_at = utcnow() - timedelta(days=days)
    db.session.flush()


def _tables() -> tuple:
    def rows(model):
        cols = [c for c in model.__table__.columns]
        return sorted(tuple(str(v) for v in row) for row in db.session.execute(select(*cols)))

    return rows(OpinionMonth), rows(CloseDaysMonth), rows(WordMonth)


def _live(monkeypatch):
    """Force the live path (as if never refreshed)."""
    monkeypatch.setattr(kpi, "dirty_months", lambda: None)


def _periods(place):
    d0, today = place.data.d0, place.today
    return [
        Filters(month_start(d0), today),  # whole months: from the table
        Filters(d0 - timedelta(days=3), today - timedelta(days=2)),  # ragged: table and live mixed
        Filters(month_start(d0), today, region=place.tree["district_a"]),
        Filters(month_start(d0), today, station=place.station_b),
        Filters(month_start(d0), today, category="env"),
    ]


def test_refresh_is_idempotent_and_equals_live(place, monkeypatch):
    _age(place)
    first = refresh_aggregates()
    assert first.months and first.opinion_rows
    snapshot = _tables()
    refresh_aggregates()
    assert _tables() == snapshot
    refresh_aggregates(full=True)
    assert _tables() == snapshot

    today = place.today
    for user in ("city", "district_a", "district_b", "station_a"):
        scope = scope_of(place.users[user])
        stored, _live_ranges = split_period(scope, _periods(place)[0], today)
        assert stored, "the whole months should come from the table"
        stored_figures = [
            (totals(scope, f, today), figures(scope, f, today, ("month", "station"))) for f in _periods(place)
        ]
        stored_words = word_counts(scope, _periods(place)[0], today)
        with monkeypatch.context() as m:
            _live(m)
            live_figures = [
                (totals(scope, f, today), figures(scope, f, today, ("month", "station")))
                for f in _periods(place)
            ]
            live_words = word_counts(scope, _periods(place)[0], today)
        assert stored_figures == live_figures, user
        assert stored_words == live_words, user


def test_a_change_after_the_refresh_is_counted_live(place):
    _age(place)
    refresh_aggregates()
    scope = scope_of(place.users["district_a"])
    f = _periods(place)[0]
    before = totals(scope, f, place.today)
    # The pending-but-late opinion is accepted now; a new one arrives in an old month.
    late = place.data.a[3]
    late.status, late.accepted_at = "accepted", at(place.today)
    add(place.station_a, at(place.data.d0 + timedelta(days=1)), "新来的意见：路灯又坏了")
    db.session.flush()
    after = totals(scope, f, place.today)
    assert after.received == before.received + 1
    assert after.accepted == before.accepted + 1
    assert month_start(place.data.d0) in (kpi.dirty_months() or set())
    refresh_aggregates()
    assert totals(scope, f, place.today) == after


def test_the_scheduler_runs_the_refresh(place, monkeypatch):
    # The report font is cut once per installation (slow); not what this test is about.
    monkeypatch.setattr("app.analytics.report.build_common_font", lambda: None)
    _age(place)
    assert "analytics" in SWEEPS
    report = run_sweep("analytics")
    assert report.counts["重算月份"] >= 1
    assert db.session.scalar(select(OpinionMonth.received).limit(1)) is not None


@pytest.mark.parametrize("user", ["district_a", "district_b"])
def test_stored_figures_keep_the_scope(place, user):
    _age(place)
    refresh_aggregates()
    scope = scope_of(place.users[user])
    c = totals(scope, _periods(place)[0], place.today)
    assert c.received == (8 if user == "district_a" else 3)


def test_demo_opinions_are_idempotent(place, runner):
    from app.analytics.demo import seed_demo_opinions

    added = seed_demo_opinions(60)
    assert added == 60
    assert seed_demo_opinions(60) == 0
    result = runner.invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0, result.output


def test_a_period_starting_inside_a_stored_month_counts_words_exactly(place, monkeypatch):
    """A period that starts after a stored month's first day reads the month from the table and
    subtracts the days it leaves out (counted live): the words equal the live count."""
    from app.analytics import words

    month = month_start(place.data.d0)
    old = utcnow() - timedelta(days=30)
    add(place.station_a, at(month), "惠山古镇停车位太少", updated_at=old)  # left out by the period
    add(place.station_a, at(month + timedelta(days=2)), "惠山古镇路灯坏了", updated_at=old)
    _age(place)
    refresh_aggregates()
    today = place.today
    f = Filters(month + timedelta(days=1), today)
    for user in ("city", "district_a", "station_a"):
        scope = scope_of(place.users[user])
        _stored, live = split_period(scope, f, today)
        months, minus, _still = words._mostly_stored(scope, f, today, live)
        assert months == [month] and minus == [(month, month)], user
        stored_words = word_counts(scope, f, today)
        with monkeypatch.context() as m:
            _live(m)
            live_words = word_counts(scope, f, today)
        assert stored_words == live_words, user
        if user != "district_a":
            assert stored_words["惠山古镇"] == 1, user  # the month's first day is left out

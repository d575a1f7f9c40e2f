"""A reception that ends becomes one pre-filled draft activity: by the sweep or by staff, never two."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.ledger.models import Activity, ActivityKind, ActivityStatus
from app.ledger.service import draft_ended_receptions, draft_from_reception, finalise_activity
from app.notify.scheduler import run_sweep
from app.receptions.models import Booking, BookingStatus
from tests.factories import build_reception
from tests.ledger.conftest import make_opinion, past_reception


def _booking(reception, n, status, topic=""):
    b = Booking(
        code=f"BK{reception.id}{n:04d}",
        reception_id=reception.id,
        slot_start=time(9),
        seat=n if status != BookingStatus.CANCELLED else None,
        resident_id=f"r{reception.id}-{n}",
        name=f"群众{n}",
        mobile="13900000000",
        topic=topic,
        status=status,
    )
    db.session.add(b)
    db.session.flush()
    return b


def test_draft_is_prefilled_from_bookings_duties_and_opinions(lw):
    d1, d2, _ = lw.deputies
    reception = past_reception(lw.station, [d1, d2], capacity=5)
    reception.announced_at = datetime(2026, 3, 10, 1, 0)
    _booking(reception, 1, BookingStatus.ATTENDED, "小区停车难")
    _booking(reception, 2, BookingStatus.ATTENDED)
    _booking(reception, 3, BookingStatus.NO_SHOW)
    _booking(reception, 4, BookingStatus.CANCELLED)
    o1 = make_opinion(lw.station, reception=reception)
    o2 = make_opinion(lw.station, reception=reception, content="垃圾分类")
    make_opinion(lw.station)  # not from this reception

    activity, created = draft_from_reception(reception, now=datetime(2026, 3, 17, 12, 0))
    assert created
    assert activity.kind == ActivityKind.RECEPTION and activity.status == ActivityStatus.DRAFT
    assert activity.started_at == datetime(2026, 3, 17, 9, 0) and activity.ended_at == datetime(
        2026, 3, 17, 11, 0
    )
    assert activity.residents_received == 2  # attended bookings only
    assert {d.deputy_id for d in activity.deputies} == {d1.id, d2.id}
    assert {link.opinion_id for link in activity.opinions} == {o1.id, o2.id}
    assert activity.announced_at is not None
    assert "预约 3 人次，到场 2 人次" in activity.content and "小区停车难" in activity.content

    again, created_again = draft_from_reception(reception, now=datetime(2026, 3, 18))
    assert again.id == activity.id and not created_again


def test_sweep_is_idempotent_and_skips_what_it_must(lw):
    d1 = lw.deputies[0]
    ended = past_reception(lw.station, [d1])
    today_later = build_reception(lw.station, [d1], day=date(2026, 11, 26), start=time(14), end=time(16))
    draft_reception = past_reception(lw.station, [d1], day=date(2026, 4, 21), status="draft")
    cancelled = past_reception(lw.station, [d1], day=date(2026, 5, 19), status="cancelled")
    too_old = past_reception(lw.station, [d1], day=date(2024, 5, 21))
    now = datetime(2026, 11, 26, 12, 0)

    created = draft_ended_receptions(now)
    assert [a.reception_id for a in created] == [ended.id]
    assert draft_ended_receptions(now) == []
    # The afternoon reception ends at 16:00: drafted by the 16:15 run, once.
    later = draft_ended_receptions(datetime(2026, 11, 26, 16, 15))
    assert [a.reception_id for a in later] == [today_later.id]
    counts = dict(
        db.session.execute(select(Activity.reception_id, func.count()).group_by(Activity.reception_id)).all()
    )
    assert counts == {ended.id: 1, today_later.id: 1}
    assert not ({draft_reception.id, cancelled.id, too_old.id} & set(counts))


def test_staff_and_sweep_share_one_activity(lw):
    d1 = lw.deputies[0]
    reception = past_reception(lw.station, [d1])
    mine, _ = draft_from_reception(reception, user=lw.staff, now=datetime(2026, 3, 17, 10, 0))
    finalise_activity(mine, lw.staff, now=datetime(2026, 3, 17, 12))
    assert draft_ended_receptions(datetime(2026, 11, 26, 12, 0)) == []
    assert db.session.scalar(select(func.count()).where(Activity.reception_id == reception.id)) == 1


def test_not_before_it_starts_nor_unannounced(lw):
    future = build_reception(lw.station, [lw.deputies[0]], day=date(2026, 12, 15))
    with pytest.raises(Conflict):
        draft_from_reception(future, now=datetime(2026, 12, 15, 8, 0))
    draft = past_reception(lw.station, [lw.deputies[0]], status="draft")
    with pytest.raises(Conflict):
        draft_from_reception(draft, now=datetime(2026, 11, 26))


def test_scheduler_runs_the_sweep(lw, monkeypatch):
    reception = past_reception(lw.station, [lw.deputies[0]])
    monkeypatch.setattr(db.session, "commit", db.session.flush)  # stay inside the test's transaction
    report = run_sweep("ledger_drafts", datetime(2026, 11, 26, 12, 0))
    assert report.counts["新建草稿"] == 1
    assert db.session.scalar(select(func.count()).where(Activity.reception_id == reception.id)) == 1

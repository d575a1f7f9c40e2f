"""`flask retention run`: closed opinions beyond the period lose the resident's personal data."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select, text

from app.extensions import db
from app.models_base import utcnow
from app.notify.models import AuditEntry, OutboxMessage
from app.notify.scheduler import SWEEPS, run_sweep
from app.opinions.models import OpinionEvent, OpinionPhoto
from app.opinions.service import record_event, submit_opinion
from app.receptions.bookings import book_slot
from app.security.retention import run_retention
from tests.factories import build_reception


def _jpeg() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "JPEG")
    out.seek(0)
    return out


def _closed(world, *, days_ago: int, status: str = "closed", **extra):
    opinion = submit_opinion(
        station=world["station"],
        content="请联系我 13811112222，小区路灯坏了很久。",
        channel="h5",
        resident_id="anon-old-resident",
        contact_name="张三",
        contact_mobile="13811112222",
        photos=[_jpeg()],
        **extra,
    )
    opinion.push_openid = "oOPENID-resident"
    opinion.status = status
    opinion.closed_at = utcnow() - timedelta(days=days_ago)
    opinion.satisfaction_comment = "满意，回电 13811112222"
    record_event(opinion, "close", to_status="closed", actor="system", note="已电话联系 13811112222")
    push = OutboxMessage(
        kind="opinion_update",
        channel="template",
        openid="oOPENID-resident",
        data={},
        dedup_key=f"opinion:{opinion.id}:closed:0",
    )
    db.session.add(push)
    db.session.flush()
    return opinion


def test_old_closed_opinions_are_anonymised_once(app, world):
    old = _closed(world, days_ago=400)
    recent = _closed(world, days_ago=10)
    still_open = world["opinion"]
    photo_path = Path(app.config["UPLOAD_FOLDER"]) / old.photos[0].path
    assert photo_path.exists()

    report = run_retention(365)
    assert report.opinions == [old.tracking_no]
    db.session.expire_all()
    assert (old.contact_name, old.contact_mobile, old.resident_id, old.push_openid) == ("", "", None, None)
    assert "13811112222" not in old.content and "138****2222" in old.content
    assert "13811112222" not in old.satisfaction_comment
    notes = db.session.scalars(select(OpinionEvent.note).where(OpinionEvent.opinion_id == old.id)).all()
    assert not any("13811112222" in n for n in notes)
    assert db.session.scalar(select(func.count()).where(OpinionPhoto.opinion_id == old.id)) == 0
    assert not photo_path.exists()
    assert old.anonymised_at is not None and old.status == "closed"  # statistics stay
    raw = db.session.execute(
        text("SELECT contact_mobile FROM opinions WHERE id = :id"), {"id": old.id}
    ).scalar()
    assert raw == ""
    # The recent and the open ones are untouched.
    assert recent.contact_mobile == "13811112222" and recent.photos
    assert still_open.contact_mobile and still_open.anonymised_at is None
    pushes = select(func.count()).where(OutboxMessage.dedup_key.like(f"opinion:{old.id}:%"))
    assert db.session.scalar(pushes) == 0 and report.pushes == 1
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_anonymise")).all()
    assert [a.object_id for a in audits] == [old.tracking_no]

    again = run_retention(365)  # idempotent
    assert again.opinions == [] and again.bookings == 0


def test_dry_run_changes_nothing(world, runner):
    old = _closed(world, days_ago=400, status="rejected")
    db.session.commit()
    result = runner.invoke(args=["retention", "run", "--older-than-days", "365", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output and "将匿名化已办结留言 1 条" in result.output
    assert old.tracking_no in result.output
    db.session.expire_all()
    assert old.contact_mobile == "13811112222" and old.anonymised_at is None
    result = runner.invoke(args=["retention", "run", "--older-than-days", "365"])
    assert "已匿名化已办结留言 1 条" in result.output and "删除照片 1 张" in result.output
    db.session.expire_all()
    assert old.contact_mobile == "" and old.anonymised_at is not None


def test_default_period_from_config_and_old_bookings(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 30)
    old_day = date.today() - timedelta(days=60)
    past = build_reception(world["station"], day=old_day)
    booking = book_slot(
        reception=past,
        slot_start=past.start,
        resident_id="anon-booker",
        name="李四",
        mobile="13922223333",
        now=datetime.combine(old_day - timedelta(days=1), past.start),
    )
    old = _closed(world, days_ago=45)
    report = run_retention()
    assert report.older_than_days == 30 and old.tracking_no in report.opinions
    assert report.bookings == 1
    db.session.expire_all()
    assert (booking.name, booking.mobile, booking.resident_id) == ("", "", "anonymised")


def test_the_scheduler_runs_it(world, monkeypatch, app):
    assert "retention" in SWEEPS
    old = _closed(world, days_ago=5000)
    db.session.commit()
    report = run_sweep("retention")
    assert report.counts["匿名化留言"] == 1
    db.session.expire_all()
    assert old.anonymised_at is not None

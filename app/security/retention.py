"""Data retention: closed opinions older than the period lose the resident's personal data.

What is personal data here, and what happens to it (README, "Security"):

- the contact the resident left (``contact_name``, ``contact_mobile``): cleared;
- the links to the resident's WeChat or browser identity (``resident_id`` behind "我的",
  ``push_openid`` for pushes), the opinion's queued or sent pushes (they carry the openid),
  and the openid and text summary of the official-account message it came in by: cleared;
- photos: deleted, files and rows (EXIF is stripped on upload, but a photo can still show
  faces, number plates or a home);
- free text that stays as the record of the 人大's work (the opinion, the reply, the answer,
  the rating comment, timeline notes): kept, with any mobile number in it masked;
- bookings of receptions older than the period: name, mobile and topic cleared, the
  resident's identity replaced.

Statistics stay whole: station, category, dates, status, satisfaction. Opinions are
anonymised once (``anonymised_at``), so a second run does nothing; each anonymised opinion
gets an audit row. "Closed" means 已办结, 不予受理 or 已合并 (the states that set
``closed_at``), counted from ``closed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.extensions import db
from app.media.service import delete_file
from app.models_base import utcnow
from app.notify.models import OutboxMessage
from app.notify.service import audit
from app.opinions.models import Opinion, OpinionEvent, OpinionPhoto, OpinionStatus
from app.receptions.models import Booking, Reception
from app.security.masking import mask_phones_in_text
from app.timeutil import local_now
from app.wechat.models import InboundMessage

CLOSED_STATES = (OpinionStatus.CLOSED, OpinionStatus.REJECTED, OpinionStatus.MERGED)
ANONYMOUS_RESIDENT = "anonymised"
BATCH = 500


@dataclass
class RetentionReport:
    """What one retention run did (or, dry, would do)."""

    older_than_days: int
    cutoff: datetime
    dry_run: bool = False
    opinions: list[str] = field(default_factory=list)  # tracking numbers
    photos: int = 0
    pushes: int = 0
    bookings: int = 0
    login_rows: int = 0

    def lines(self) -> list[str]:
        verb = "将匿名化" if self.dry_run else "已匿名化"
        head = f"数据保留期 {self.older_than_days} 天（{self.cutoff:%Y-%m-%d} 之前）"
        if self.dry_run:
            head += "，试运行，未写入"
        out = [
            head,
            f"{verb}已办结留言 {len(self.opinions)} 条，删除照片 {self.photos} 张、推送记录 {self.pushes} 条",
            f"{verb}预约 {self.bookings} 条；清理过期登录失败记录 {self.login_rows} 条",
        ]
        if self.opinions:
            shown = "、".join(self.opinions[:20])
            more = f" 等 {len(self.opinions)} 条" if len(self.opinions) > 20 else ""
            out.append(f"留言编号：{shown}{more}")
        return out


def retention_days() -> int:
    return int(current_app.config.get("RETENTION_DAYS", 1095))


def _masked(text: str | None) -> str:
    return mask_phones_in_text(text or "")


def anonymise_opinion(opinion: Opinion, now: datetime) -> tuple[int, int]:
    """Strip one opinion of its resident's personal data; returns (photos, pushes) removed."""
    photos = list(opinion.photos)
    for photo in photos:
        delete_file(photo.path)
    db.session.execute(delete(OpinionPhoto).where(OpinionPhoto.opinion_id == opinion.id))
    pushes = db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.dedup_key.like(f"opinion:{opinion.id}:%"))
    ).rowcount
    db.session.execute(
        update(InboundMessage).where(InboundMessage.ref == opinion.tracking_no).values(openid="", summary="")
    )
    opinion.contact_name = ""
    opinion.contact_mobile = ""
    opinion.resident_id = None
    opinion.push_openid = None
    opinion.content = _masked(opinion.content)
    opinion.reply_text = _masked(opinion.reply_text)
    opinion.answer_text = _masked(opinion.answer_text)
    opinion.satisfaction_comment = _masked(opinion.satisfaction_comment)
    for event in db.session.scalars(select(OpinionEvent).where(OpinionEvent.opinion_id == opinion.id)):
        event.note = _masked(event.note)
    opinion.anonymised_at = now
    db.session.expire(opinion, ["photos"])
    audit(None, "retention_anonymise", "opinion", opinion.tracking_no, "已删除群众个人信息")
    return len(photos), pushes or 0


def run_retention(older_than_days: int | None = None, *, dry_run: bool = False) -> RetentionReport:
    """Anonymise closed opinions and old bookings beyond the period; idempotent. Flushes.

    A dry run finds the same rows and changes nothing (the caller rolls back anyway).
    """
    from app.security.lockout import prune

    days = retention_days() if older_than_days is None else int(older_than_days)
    if days < 0:
        raise ValueError("older_than_days must be >= 0")
    now = utcnow()
    cutoff = now - timedelta(days=days)
    report = RetentionReport(older_than_days=days, cutoff=cutoff, dry_run=dry_run)
    query = (
        select(Opinion)
        .where(
            Opinion.status.in_([s.value for s in CLOSED_STATES]),
            Opinion.closed_at < cutoff,
            Opinion.anonymised_at.is_(None),
        )
        .order_by(Opinion.id)
    )
    for opinion in db.session.scalars(query).all():
        report.opinions.append(opinion.tracking_no)
        if dry_run:
            report.photos += len(opinion.photos)
            continue
        photos, pushes = anonymise_opinion(opinion, now)
        report.photos += photos
        report.pushes += pushes
    local_cutoff = (local_now() - timedelta(days=days)).date()
    bookings = select(Booking).where(
        Booking.reception_id.in_(select(Reception.id).where(Reception.date < local_cutoff)),
        Booking.resident_id != ANONYMOUS_RESIDENT,
    )
    for booking in db.session.scalars(bookings).all():
        report.bookings += 1
        if dry_run:
            continue
        booking.name = ""
        booking.mobile = ""
        booking.topic = ""
        booking.resident_id = ANONYMOUS_RESIDENT
        booking.active_resident = None
    if report.bookings and not dry_run:
        audit(None, "retention_anonymise", "booking", report.bookings, f"{local_cutoff} 之前接待活动的预约")
    if not dry_run:
        report.login_rows = prune(now)
    db.session.flush()
    return report

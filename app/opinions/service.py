"""Opinions in: one path for every channel, stored before anything is acknowledged."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.deputies.models import Deputy
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.opinions.models import Channel, Opinion, OpinionEvent, OpinionStatus
from app.stations.models import Station
from app.validation import MOBILE_RE, clean_text

CONTENT_MIN, CONTENT_MAX = 5, 2000
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12  # 31^12 ≈ 7.9e17: not guessable, not enumerable


def new_tracking_no() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_no(text: str) -> str:
    """Residents type the number by hand: ignore case, spaces and dashes."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def clean_content(content: object) -> str:
    text = ("" if content is None else str(content)).strip()
    if len(text) < CONTENT_MIN:
        raise ValidationFailed(f"留言内容至少 {CONTENT_MIN} 个字，请把情况说具体一些。", field="content")
    if len(text) > CONTENT_MAX:
        raise ValidationFailed(f"留言内容不能超过 {CONTENT_MAX} 个字。", field="content")
    return text


def record_event(
    opinion: Opinion,
    action: str,
    *,
    actor: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    actor_user_id: int | None = None,
) -> OpinionEvent:
    """Append the event row of a change, in the caller's transaction."""
    event = OpinionEvent(
        opinion=opinion,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_user_id=actor_user_id,
        note=note,
    )
    db.session.add(event)
    return event


def submit_opinion(
    *,
    station: Station,
    content: object,
    channel: Channel | str,
    resident_id: str | None = None,
    contact_name: object = "",
    contact_mobile: object = "",
    category: str | None = None,
    deputy: Deputy | None = None,
    reception=None,
    dedup_key: str | None = None,
    actor: str = "resident",
) -> Opinion:
    """Store a new opinion (待受理) with its first event; a repeated ``dedup_key`` returns the first.

    Every channel (official account, H5, mini-program, staff entry) calls this one function.
    """
    channel = Channel(channel)
    if not station.is_active:
        raise ValidationFailed("该家站点暂停服务，暂不能留言。", field="station")
    text = clean_content(content)
    name = clean_text(contact_name, "contact_name", "联系人", max_len=32, required=False)
    mobile = clean_text(contact_mobile, "contact_mobile", "手机号", max_len=32, required=False)
    if mobile and not MOBILE_RE.match(mobile):
        raise ValidationFailed("请填写正确的 11 位手机号码。", field="contact_mobile")
    if dedup_key:
        existing = db.session.scalar(select(Opinion).where(Opinion.dedup_key == dedup_key))
        if existing is not None:
            return existing
    opinion = Opinion(
        tracking_no=new_tracking_no(),
        channel=channel,
        station=station,
        deputy=deputy,
        reception=reception,
        resident_id=resident_id,
        contact_name=name,
        contact_mobile=mobile,
        content=text,
        category=category,
        status=OpinionStatus.PENDING,
        dedup_key=dedup_key,
    )
    try:
        with db.session.begin_nested():
            db.session.add(opinion)
            record_event(opinion, "submit", actor=actor, to_status=OpinionStatus.PENDING, note=channel.label)
            db.session.flush()
    except IntegrityError:
        # A concurrent delivery of the same submission won the race: answer with its opinion.
        if dedup_key is None:
            raise
        existing = db.session.scalar(select(Opinion).where(Opinion.dedup_key == dedup_key))
        if existing is None:
            raise
        return existing
    return opinion


def get_by_tracking_no(tracking_no: str) -> Opinion:
    opinion = db.session.scalar(
        select(Opinion).where(Opinion.tracking_no == normalise_tracking_no(tracking_no))
    )
    if opinion is None:
        raise NotFound("未找到该留言，请核对查询编号。")
    return opinion


def opinions_of(resident_id: str, limit: int = 20) -> list[Opinion]:
    """A resident's own opinions, newest first."""
    return list(
        db.session.scalars(
            select(Opinion)
            .where(Opinion.resident_id == resident_id)
            .order_by(Opinion.created_at.desc(), Opinion.id.desc())
            .limit(limit)
        )
    )

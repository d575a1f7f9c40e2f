"""Mini-program subscribe consents: each allows exactly one message of its template."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.notify.models import SubscribeConsent

MAX_TEMPLATES_PER_CALL = 3  # wx.requestSubscribeMessage asks for at most three at once


def record_consents(openid: str, template_ids: Iterable[str]) -> int:
    """Store one consent per accepted template (the mini-program's 'accept' answers)."""
    ids = [str(t).strip() for t in template_ids if str(t).strip()]
    if not ids or len(ids) > MAX_TEMPLATES_PER_CALL:
        raise ValidationFailed("一次可记录 1 至 3 个订阅消息模板。", field="template_ids")
    if any(len(t) > 64 for t in ids):
        raise ValidationFailed("订阅消息模板编号无效。", field="template_ids")
    for template_id in ids:
        db.session.add(SubscribeConsent(openid=openid, template_id=template_id))
    db.session.flush()
    return len(ids)


def remaining_consents(openid: str, template_id: str) -> int:
    """Unspent consents of this resident for this template."""
    return db.session.scalar(
        select(func.count()).where(
            SubscribeConsent.openid == openid,
            SubscribeConsent.template_id == template_id,
            SubscribeConsent.used_at.is_(None),
        )
    )


def spend_consent(openid: str, template_id: str, used_for: str) -> bool:
    """Use the oldest unspent consent for one send; False when none is left.

    The row is locked (SKIP LOCKED on PostgreSQL), so two senders never spend the same consent.
    """
    consent = db.session.scalar(
        select(SubscribeConsent)
        .where(
            SubscribeConsent.openid == openid,
            SubscribeConsent.template_id == template_id,
            SubscribeConsent.used_at.is_(None),
        )
        .order_by(SubscribeConsent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if consent is None:
        return False
    consent.used_at = utcnow()
    consent.used_for = used_for
    db.session.flush()
    return True

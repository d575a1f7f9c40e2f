"""Queueing pushes: a row in the outbox, in the caller's transaction, once per dedup key."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.notify import messages
from app.notify.models import AuditEntry, OutboxMessage, OutboxStatus


def queue_message(openid: str, channel: str, message: messages.Message, dedup_key: str) -> OutboxMessage:
    """Add the push unless one with ``dedup_key`` exists; returns the (first) row."""
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return existing
    templates = current_app.config.get("WECHAT_TEMPLATES", {})
    row = OutboxMessage(
        kind=message.kind,
        channel=channel,
        openid=openid,
        template=templates.get(message.template_key, message.template_key),
        data={"fields": message.data, "url": message.url},
        dedup_key=dedup_key,
        status=OutboxStatus.PENDING,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # queued concurrently by another worker: that row is the one
        return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    return row


def queue_opinion_update(opinion, step: str) -> OutboxMessage | None:
    """Queue the resident's progress push for ``step``; None when they can only follow the page.

    The one function every opinion step calls; the sender (issue 7) delivers the rows.
    """
    if not opinion.push_openid:
        return None
    channel = "subscribe" if opinion.channel == "miniapp" else "template"
    message = messages.opinion_update(opinion, step, current_app.config["PUBLIC_BASE_URL"])
    # One push per opinion and step; a reopened opinion's steps count again.
    key = f"opinion:{opinion.id}:{step}:{opinion.reopen_count}"
    return queue_message(opinion.push_openid, channel, message, key)


def audit(user, action: str, object_type: str, object_id: object, detail: str = "") -> AuditEntry:
    """Record who did what, for the auditors' export."""
    entry = AuditEntry(
        actor_user_id=getattr(user, "id", None),
        actor=f"staff:{user.username}" if user is not None else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )
    db.session.add(entry)
    db.session.flush()
    return entry

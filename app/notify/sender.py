"""The outbox sender: deliver due rows to WeChat, one short transaction per row.

Delivery semantics (WeChat's template API takes a ``client_msg_id``; the subscribe API takes
no idempotency key at all):

- A row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one
  writer at a time, so one process drains there), sent while the lock is held, and its
  outcome written and committed in that same transaction. Two workers therefore never send
  the same row, and a row is ``sent`` only if the commit that says so happened.
- When the answer is lost (timeout, dropped connection) or the process dies between
  WeChat's answer and the commit, the row stays ``pending`` and is sent again later: we
  choose **at-least-once**. A lost reminder (a deputy missing their reception) or a lost
  announcement costs more than a rare repeat, and for template messages the repeat is no
  repeat at all: every send carries ``client_msg_id`` derived from the dedup key, so WeChat
  drops a second send within 10 minutes (our first retries, at 30 s·2^n, fall inside that).
  Only a subscribe message whose answer was lost can reach a resident twice.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db, redis_client
from app.models_base import utcnow
from app.notify.consents import spend_consent
from app.notify.messages import fit_subscribe_fields, wechat_data
from app.notify.models import OutboxMessage, OutboxStatus
from app.notify.throttle import Throttle
from app.wechat import client as wechat
from app.wechat.client import WeChatApiError

log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    """What one drain did, row by row outcome."""

    sent: int = 0
    fallback: int = 0  # subscribe rows sent as official-account template messages
    undeliverable: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.undeliverable + self.retrying + self.dead

    def add(self, other: DrainReport) -> None:
        self.sent += other.sent
        self.fallback += other.fallback
        self.undeliverable += other.undeliverable
        self.retrying += other.retrying
        self.dead += other.dead
        self.errors.extend(other.errors)

    def summary(self) -> str:
        """One line in Chinese for the CLI and the scheduler's log."""
        text = (
            f"已发送 {self.sent} 条（其中改用公众号模板消息 {self.fallback} 条），"
            f"无法送达 {self.undeliverable} 条，稍后重试 {self.retrying} 条，放弃 {self.dead} 条。"
        )
        return text


class _Undeliverable(Exception):
    """The row can never be sent (no consent left, channel not supported)."""


def _throttle() -> Throttle:
    app = current_app._get_current_object()
    throttle = app.extensions.get("outbox_throttle")
    if throttle is None:
        throttle = Throttle(app.config.get("OUTBOX_RATE_PER_SECOND", 100), redis_client())
        app.extensions["outbox_throttle"] = throttle
    return throttle


def client_msg_id(dedup_key: str) -> str:
    """WeChat's 防重入 key for a row: stable, short, the same on every retry."""
    return hashlib.sha1(dedup_key.encode()).hexdigest()[:32]  # noqa: S324 - an id, not a secret


def _claim(now: datetime) -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _follows_official_account(openid: str) -> bool:
    from app.wechat.models import Subscriber

    return bool(
        db.session.scalar(
            select(Subscriber.id).where(Subscriber.openid == openid, Subscriber.subscribed.is_(True))
        )
    )


def _send_template(row: OutboxMessage) -> str:
    payload = row.data or {}
    msgid = wechat.official_account().send_template(
        row.openid,
        row.template,
        wechat_data(payload.get("fields") or {}),
        url=payload.get("url") or None,
        client_msg_id=client_msg_id(row.dedup_key),
    )
    return str(msgid)


def _send_subscribe(row: OutboxMessage, report: DrainReport) -> str | None:
    """Spend one consent and send; with none left, the official account if they follow it."""
    payload = row.data or {}
    # The consent is spent only if WeChat took the message: a failed send keeps it.
    savepoint = db.session.begin_nested()
    if spend_consent(row.openid, row.template, row.dedup_key):
        try:
            result = wechat.mini_program().send_subscribe_message(
                row.openid,
                row.template,
                wechat_data(fit_subscribe_fields(payload.get("fields") or {})),
                page=payload.get("page") or None,
            )
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        msgid = (result or {}).get("msgid") if isinstance(result, dict) else None
        return str(msgid) if msgid else None
    savepoint.rollback()
    if _follows_official_account(row.openid):
        msgid = _send_template(row)
        report.fallback += 1
        return msgid
    raise _Undeliverable("没有可用的订阅授权，居民可在查询页面查看进度")


def _send_customer(row: OutboxMessage) -> str | None:
    api = wechat.official_account()
    send = getattr(api, "send_customer_message", None)
    if send is None:
        raise _Undeliverable("暂不支持客服消息")
    send(row.openid, (row.data or {}).get("fields") or {})
    return None


def _backoff(attempts: int) -> timedelta:
    config = current_app.config
    base = config.get("OUTBOX_RETRY_BASE_S", 30)
    cap = config.get("OUTBOX_RETRY_MAX_S", 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _record_failure(row: OutboxMessage, exc: Exception, now: datetime, report: DrainReport) -> None:
    config = current_app.config
    row.attempts += 1
    row.last_error = str(exc)[:300]
    if isinstance(exc, WeChatApiError) and exc.user_refused:
        row.status = OutboxStatus.UNDELIVERABLE
        row.next_attempt_at = None
        report.undeliverable += 1
        return
    retryable = isinstance(exc, WeChatApiError) and exc.retryable
    limit = config.get("OUTBOX_MAX_RETRYABLE_ATTEMPTS" if retryable else "OUTBOX_MAX_ATTEMPTS", 8)
    if row.attempts >= limit:
        row.status = OutboxStatus.DEAD
        row.next_attempt_at = None
        report.dead += 1
        return
    row.next_attempt_at = now + _backoff(row.attempts)
    report.retrying += 1


def _deliver(row: OutboxMessage, now: datetime, report: DrainReport) -> None:
    """Send one claimed row and write the outcome on it (the caller commits)."""
    try:
        if row.channel == "template":
            msgid = _send_template(row)
        elif row.channel == "subscribe":
            msgid = _send_subscribe(row, report)
        elif row.channel == "customer":
            msgid = _send_customer(row)
        else:
            raise _Undeliverable(f"未知的发送渠道：{row.channel}")
    except _Undeliverable as exc:
        row.status = OutboxStatus.UNDELIVERABLE
        row.last_error = str(exc)[:300]
        row.next_attempt_at = None
        report.undeliverable += 1
        return
    except WeChatApiError as exc:
        _record_failure(row, exc, now, report)
        return
    except Exception as exc:  # a bug for one row must not stop the others; it retries, then dies
        log.exception("outbox row %s failed", row.id)
        report.errors.append(f"{row.id}: {exc}")
        _record_failure(row, exc, now, report)
        return
    row.status = OutboxStatus.SENT
    row.attempts += 1
    row.sent_at = utcnow()
    row.msgid = msgid
    row.last_error = ""
    row.next_attempt_at = None
    report.sent += 1


def drain(limit: int = 500, now: datetime | None = None) -> DrainReport:
    """Send up to ``limit`` due rows, each claimed, sent and settled in one committed transaction.

    Safe to run in any number of workers at once on PostgreSQL: a row another worker holds
    is skipped, never sent twice. Returns the counts by outcome.
    """
    now = now or utcnow()
    report = DrainReport()
    throttle = _throttle()
    while report.handled < limit:
        try:
            row = _claim(now)
            if row is None:
                db.session.commit()  # end the (empty) claim transaction
                break
            throttle.wait()
            _deliver(row, now, report)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return report


def pending_count(now: datetime | None = None, *, due_only: bool = False) -> int:
    """Rows still to send (all of them, or only those due at ``now``)."""
    from sqlalchemy import func

    where = [OutboxMessage.status == OutboxStatus.PENDING]
    if due_only:
        moment = now or utcnow()
        where.append(or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= moment))
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))


def next_due_at() -> datetime | None:
    """When the earliest row waiting out a back-off becomes due."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )

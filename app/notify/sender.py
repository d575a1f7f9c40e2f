"""The outbox sender: deliver due rows to WeChat in batches, through a bounded pool of threads.

Delivery semantics (WeChat's template API takes a ``client_msg_id``; the subscribe API takes
no idempotency key at all):

- **Claim.** A worker claims up to ``OUTBOX_BATCH_SIZE`` due rows in one statement
  (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time, so one
  process drains there), stamps them with a lease (``claimed_until``, ``claim_token``) and
  commits. Other workers skip rows under a running lease, so two workers never send one row.
- **Send.** Template rows go through a pool of ``OUTBOX_SEND_THREADS`` threads sharing one
  HTTP session (the shared rate limit is taken before each send); the threads never touch
  the database. Subscribe and customer rows, which spend consents and read follows, are sent
  one by one in the worker's own thread, each under its row lock.
- **Record.** The outcomes of a batch are written in one transaction (one ``executemany``),
  each only if the row still carries this batch's token. A row is ``sent`` only if that
  commit happened. A worker that dies mid-batch leaves its rows pending under a lease; once
  ``OUTBOX_LEASE_S`` has passed they are claimed again, and that unanswered try counts as
  ambiguous (below).
- **At-least-once, never twice.** When an answer is lost (timeout, dropped connection, a
  crash) the row is tried again with the same ``client_msg_id`` (from the dedup key), which
  WeChat drops as a repeat within 10 minutes of the first delivery. So after an ambiguous
  try, retries stay inside ``OUTBOX_AMBIGUOUS_WINDOW_S`` (8 minutes: under WeChat's 10, with
  room for clock skew and the send itself) counted from the *first* ambiguous try: back-off
  is capped to land inside it, and a row that cannot be tried again inside it is not
  retried but set to ``review`` (待核实) for staff, since WeChat may already have delivered
  it. Definite answers (``-1``, ``45009``…) are not ambiguous: WeChat said it did not
  deliver. Only a subscribe message whose answer was lost can reach a resident twice
  (WeChat gives that API no idempotency key).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, or_, select, update

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
    review: int = 0  # may have been delivered; left for staff rather than risk a repeat
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.undeliverable + self.retrying + self.dead + self.review

    def add(self, other: DrainReport) -> None:
        self.sent += other.sent
        self.fallback += other.fallback
        self.undeliverable += other.undeliverable
        self.retrying += other.retrying
        self.dead += other.dead
        self.review += other.review
        self.errors.extend(other.errors)

    def summary(self) -> str:
        """One line in Chinese for the CLI and the scheduler's log."""
        text = (
            f"已发送 {self.sent} 条（其中改用公众号模板消息 {self.fallback} 条），"
            f"无法送达 {self.undeliverable} 条，稍后重试 {self.retrying} 条，放弃 {self.dead} 条。"
        )
        if self.review:
            text += f"另有 {self.review} 条微信未应答、可能已送达，为免重复不再自动重发，待工作人员核实。"
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


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their (UTC) zone.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _ambiguous_window() -> timedelta:
    return timedelta(seconds=current_app.config.get("OUTBOX_AMBIGUOUS_WINDOW_S", 480))


def _is_ambiguous(exc: Exception) -> bool:
    """WeChat may have received the call: no answer came (timeout, dropped connection)."""
    return isinstance(exc, WeChatApiError) and exc.errcode is None


REVIEW_NOTE = "微信未应答，可能已送达；再发可能重复，请核实后决定是否重发"


def _failure_changes(
    channel: str, attempts: int, first_ambiguous_at: datetime | None, exc: Exception, at: datetime
) -> dict:
    """The columns a failed try sets: back-off, undeliverable, dead, or review.

    ``attempts`` counts this try; ``at`` is when it was made.
    """
    config = current_app.config
    changes = {"attempts": attempts, "last_error": str(exc)[:300], "next_attempt_at": None}
    if isinstance(exc, WeChatApiError) and exc.user_refused:
        return changes | {"status": OutboxStatus.UNDELIVERABLE.value}
    # Only template sends carry client_msg_id: the window matters for them alone.
    if channel == "template" and _is_ambiguous(exc) and first_ambiguous_at is None:
        first_ambiguous_at = at
        changes["first_ambiguous_at"] = at
    retryable = isinstance(exc, WeChatApiError) and exc.retryable
    limit = config.get("OUTBOX_MAX_RETRYABLE_ATTEMPTS" if retryable else "OUTBOX_MAX_ATTEMPTS", 8)
    if attempts >= limit:
        return changes | {"status": OutboxStatus.DEAD.value}
    retry_at = at + _backoff(attempts)
    if channel == "template" and first_ambiguous_at is not None:
        # Retry only while WeChat would still drop a repeat of a delivery we never heard of:
        # at most half-way to the window's end, so each retry leaves room for a later one and
        # for the worker to pick it up late; when too little is left, staff decide.
        remaining = _aware(first_ambiguous_at) + _ambiguous_window() - at
        if remaining < 2 * MIN_RETRY_GAP:
            changes["last_error"] = f"{REVIEW_NOTE}（{changes['last_error']}）"[:300]
            return changes | {"status": OutboxStatus.REVIEW.value}
        retry_at = min(retry_at, at + max(MIN_RETRY_GAP, remaining / 2))
    return changes | {"status": OutboxStatus.PENDING.value, "next_attempt_at": retry_at}


# The shortest wait before a retry inside the ambiguous window.
MIN_RETRY_GAP = timedelta(seconds=15)


def _count(report: DrainReport, status: str) -> None:
    if status == OutboxStatus.SENT:
        report.sent += 1
    elif status == OutboxStatus.UNDELIVERABLE:
        report.undeliverable += 1
    elif status == OutboxStatus.DEAD:
        report.dead += 1
    elif status == OutboxStatus.REVIEW:
        report.review += 1
    else:
        report.retrying += 1


def _record_failure(row: OutboxMessage, exc: Exception, now: datetime, report: DrainReport) -> None:
    changes = _failure_changes(row.channel, row.attempts + 1, row.first_ambiguous_at, exc, now)
    for column, value in changes.items():
        setattr(row, column, value)
    _count(report, changes["status"])


def _deliver(row: OutboxMessage, now: datetime, report: DrainReport) -> None:
    """Send one row in this thread and write the outcome on it (the caller commits)."""
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


# --- batches ---------------------------------------------------------------------------

_TABLE = OutboxMessage.__table__
_CLAIM_COLUMNS = (
    _TABLE.c.id,
    _TABLE.c.channel,
    _TABLE.c.openid,
    _TABLE.c.template,
    _TABLE.c.data,
    _TABLE.c.dedup_key,
    _TABLE.c.attempts,
    _TABLE.c.first_ambiguous_at,
    _TABLE.c.claimed_until,
)
# Every outcome of a batch in one executemany; only rows still carrying this batch's token.
_SETTLE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.claim_token == bindparam("token"))
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        last_error=bindparam("new_error"),
        next_attempt_at=bindparam("new_next"),
        sent_at=bindparam("new_sent_at"),
        msgid=bindparam("new_msgid"),
        first_ambiguous_at=bindparam("new_first_ambiguous"),
        claimed_until=None,
        claim_token=None,
        updated_at=bindparam("new_updated"),
    )
)


@dataclass
class _Claimed:
    """A claimed row, as plain values the send threads can read without the database."""

    id: int
    channel: str
    openid: str
    template: str
    data: dict
    dedup_key: str
    attempts: int
    first_ambiguous_at: datetime | None


@dataclass
class _Outcome:
    row: _Claimed
    at: datetime | None = None  # when the try was made (None: not tried)
    msgid: str | None = None
    error: Exception | None = None
    review: bool = False  # not tried: outside the ambiguous window


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("OUTBOX_LEASE_S", 120))


def _claim_batch(now: datetime, size: int, token: str) -> tuple[list[_Claimed], datetime]:
    """Claim up to ``size`` due rows for this worker under a lease; committed. Returns rows and lease end.

    A row whose earlier lease ran out unsettled (its worker died mid-batch) may have been
    sent: its first ambiguous try is dated back to that claim.
    """
    real_now = utcnow()
    lease = _lease()
    found = db.session.execute(
        select(*_CLAIM_COLUMNS)
        .where(
            _TABLE.c.status == OutboxStatus.PENDING.value,
            or_(_TABLE.c.next_attempt_at.is_(None), _TABLE.c.next_attempt_at <= now),
            or_(_TABLE.c.claimed_until.is_(None), _TABLE.c.claimed_until < real_now),
        )
        .order_by(_TABLE.c.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    ).all()
    lease_until = real_now + lease
    if not found:
        db.session.commit()
        return [], lease_until
    rows = []
    stale = []
    for r in found:
        first = _aware(r.first_ambiguous_at)
        if r.claimed_until is not None and r.channel == "template":
            claimed_at = _aware(r.claimed_until) - lease
            if first is None or claimed_at < first:
                first = claimed_at
                stale.append({"row_id": r.id, "first": first})
        rows.append(
            _Claimed(r.id, r.channel, r.openid, r.template, r.data or {}, r.dedup_key, r.attempts, first)
        )
    db.session.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_([r.id for r in rows]))
        .values(claimed_until=lease_until, claim_token=token)
    )
    if stale:
        db.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("row_id"))
            .values(first_ambiguous_at=bindparam("first")),
            stale,
        )
    db.session.commit()
    return rows, lease_until


def _send_pool() -> ThreadPoolExecutor:
    app = current_app._get_current_object()
    pool = app.extensions.get("outbox_send_pool")
    if pool is None:
        with _POOL_GUARD:
            pool = app.extensions.get("outbox_send_pool")
            if pool is None:
                size = max(1, int(app.config.get("OUTBOX_SEND_THREADS", 8)))
                pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="outbox-send")
                app.extensions["outbox_send_pool"] = pool
    return pool


_POOL_GUARD = threading.Lock()
# A send is not started when less than this is left of the batch's lease.
LEASE_MARGIN = timedelta(seconds=15)


def _send_claimed_template(api, throttle: Throttle, row: _Claimed, lease_until, clock, window) -> _Outcome:
    """One template send in a pool thread: no database, only WeChat."""
    throttle.wait()
    if utcnow() >= lease_until - LEASE_MARGIN:
        return _Outcome(row)  # not tried: the next claim takes it
    at = clock()
    if row.first_ambiguous_at is not None and at >= row.first_ambiguous_at + window:
        return _Outcome(row, at=at, review=True)
    try:
        msgid = api.send_template(
            row.openid,
            row.template,
            wechat_data(row.data.get("fields") or {}),
            url=row.data.get("url") or None,
            client_msg_id=client_msg_id(row.dedup_key),
        )
    except Exception as exc:  # every failure is recorded on the row by the batch's settle step
        return _Outcome(row, at=at, error=exc)
    return _Outcome(row, at=at, msgid=str(msgid))


def _settle_params(outcome: _Outcome, token: str, report: DrainReport) -> dict | None:
    row = outcome.row
    stamp = utcnow()
    params = {
        "row_id": row.id,
        "token": token,
        "new_attempts": row.attempts,
        "new_error": "",
        "new_next": None,
        "new_sent_at": None,
        "new_msgid": None,
        "new_first_ambiguous": row.first_ambiguous_at,
        "new_updated": stamp,
    }
    if outcome.at is None:  # not tried: back to the queue as it was
        return params | {"new_status": OutboxStatus.PENDING.value, "new_error": "", "new_next": None}
    if outcome.review:
        report.review += 1
        return params | {"new_status": OutboxStatus.REVIEW.value, "new_error": REVIEW_NOTE}
    if outcome.error is None:
        report.sent += 1
        return params | {
            "new_status": OutboxStatus.SENT.value,
            "new_attempts": row.attempts + 1,
            "new_sent_at": stamp,
            "new_msgid": outcome.msgid,
        }
    exc = outcome.error
    if not isinstance(exc, WeChatApiError):
        log.error("outbox row %s failed: %r", row.id, exc)
        report.errors.append(f"{row.id}: {exc}")
    changes = _failure_changes(row.channel, row.attempts + 1, row.first_ambiguous_at, exc, outcome.at)
    _count(report, changes["status"])
    return params | {
        "new_status": changes["status"],
        "new_attempts": changes["attempts"],
        "new_error": changes["last_error"],
        "new_next": changes["next_attempt_at"],
        "new_first_ambiguous": changes.get("first_ambiguous_at", row.first_ambiguous_at),
    }


def _deliver_one_by_one(row: _Claimed, token: str, clock, report: DrainReport) -> None:
    """A subscribe or customer row: sent in this thread under its row lock, settled and committed."""
    try:
        orm_row = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == token)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if orm_row is None:  # our lease ran out and another worker took it
            db.session.commit()
            return
        throttle_wait()
        _deliver(orm_row, clock(), report)
        orm_row.claimed_until = None
        orm_row.claim_token = None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def throttle_wait() -> None:
    _throttle().wait()


def drain(
    limit: int = 500, now: datetime | None = None, *, clock: Callable[[], datetime] | None = None
) -> DrainReport:
    """Send up to ``limit`` due rows, batch by batch: claim under a lease, send, record in one commit.

    Safe to run in any number of workers at once on PostgreSQL: a row another worker holds
    is skipped, never sent twice. ``now`` (default: the time) decides what is due; each try
    is dated by ``clock`` (default: ``now`` moved on by the time this drain has taken), which
    is what the client_msg_id window is measured in. Returns the counts by outcome.
    """
    if clock is not None:
        now = clock()
    now = now or utcnow()
    if clock is None:
        started = time.monotonic()

        def clock() -> datetime:
            return now + timedelta(seconds=time.monotonic() - started)

    report = DrainReport()
    config = current_app.config
    batch = max(1, int(config.get("OUTBOX_BATCH_SIZE", 50)))
    window = _ambiguous_window()
    throttle = _throttle()
    token = secrets.token_hex(8)
    api = None

    def claim(size: int) -> _Batch | None:
        """Claim the next rows and start their template sends; None when nothing is due."""
        nonlocal api
        try:
            rows, lease_until = _claim_batch(now, size, token)
        except Exception:
            db.session.rollback()
            raise
        if not rows:
            return None
        templates = [r for r in rows if r.channel == "template"]
        futures = []
        if templates:
            api = api or wechat.official_account()
            pool = _send_pool()
            futures = [
                pool.submit(_send_claimed_template, api, throttle, r, lease_until, clock, window)
                for r in templates
            ]
        return _Batch(rows, futures, [r for r in rows if r.channel != "template"])

    def finish(current: _Batch) -> bool:
        """Record a batch's outcomes in one commit, then send its other rows; False: stop draining."""
        outcomes = [f.result() for f in current.futures]
        if outcomes:
            params = [_settle_params(o, token, report) for o in outcomes]
            try:
                db.session.execute(_SETTLE, params)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        for row in current.others:
            _deliver_one_by_one(row, token, clock, report)
        # The lease ran out before anything was tried: stop, let other workers take over.
        return not outcomes or any(o.at is not None for o in outcomes)

    # One batch ahead: the next one is claimed and sending while this one is recorded, so
    # the send threads never wait for the database.
    claimed = 0
    current = claim(min(batch, limit))
    while current is not None:
        claimed += len(current.rows)
        following = claim(min(batch, limit - claimed)) if claimed < limit else None
        if not finish(current):
            if following is not None:
                finish(following)
            break
        current = following
    return report


@dataclass
class _Batch:
    rows: list[_Claimed]
    futures: list
    others: list[_Claimed]


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

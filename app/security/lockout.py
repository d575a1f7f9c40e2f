"""Console and staff-API sign-in lock-out: after N failures a username is locked for a while.

Counted per username as typed (lower-cased), whether or not the account exists, so the
answers never tell a real account from an unknown name. Redis (``REDIS_URL``) holds the
counters when configured, shared by every gunicorn worker; otherwise, or when Redis fails,
the ``login_failures`` table does (rows locked ``FOR UPDATE`` on PostgreSQL, SQLite takes
its write lock up front). Each lock is written to the audit log.

Settings: ``LOGIN_MAX_FAILURES`` (5) failures within ``LOGIN_FAILURE_WINDOW_SECONDS`` (900)
lock for ``LOGIN_LOCKOUT_SECONDS`` (900). A success clears the count.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.errors import DomainError
from app.extensions import db, redis_client
from app.models_base import utcnow
from app.security.models import LoginFailure

log = logging.getLogger(__name__)

FAIL_KEY = "jzd:login-fail:"
LOCK_KEY = "jzd:login-lock:"


class LoginLocked(DomainError):
    """Too many failed sign-ins for this username: wait until the lock ends."""

    status = 429
    code = "login_locked"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, seconds: int) -> None:
        minutes = max(1, math.ceil(seconds / 60))
        super().__init__(f"登录失败次数过多，该用户名已暂时锁定，请 {minutes} 分钟后再试。")
        self.seconds = seconds
        self.headers = {"Retry-After": str(max(1, int(seconds)))}


def _settings() -> tuple[int, int, int]:
    config = current_app.config
    return (
        max(1, int(config.get("LOGIN_MAX_FAILURES", 5))),
        max(1, int(config.get("LOGIN_FAILURE_WINDOW_SECONDS", 900))),
        max(1, int(config.get("LOGIN_LOCKOUT_SECONDS", 900))),
    )


def _key(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; everything here is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def seconds_locked(username: str, now: datetime | None = None) -> int:
    """Seconds until this username may try again; 0 when it is not locked."""
    name = _key(username)
    redis = redis_client()
    if redis is not None:
        try:
            ttl = redis.ttl(LOCK_KEY + name)
            return max(0, int(ttl))
        except Exception:
            log.warning("lock-out: Redis unavailable, using the database")
    row = db.session.get(LoginFailure, name)
    now = now or utcnow()
    locked_until = _aware(row.locked_until) if row is not None else None
    if locked_until is None or locked_until <= now:
        return 0
    return math.ceil((locked_until - now).total_seconds())


def ensure_not_locked(username: str) -> None:
    """Raise ``LoginLocked`` while this username is locked."""
    seconds = seconds_locked(username)
    if seconds:
        raise LoginLocked(seconds)


def register_failure(username: str, address: str = "", now: datetime | None = None) -> int:
    """Count a failed sign-in; returns the seconds of the lock it started (0: none). Flushes."""
    name = _key(username)
    if not name:
        return 0
    limit, window, lockout = _settings()
    redis = redis_client()
    locked = 0
    if redis is not None:
        try:
            locked = _fail_redis(redis, name, limit, window, lockout)
        except Exception:
            log.warning("lock-out: Redis unavailable, counting in the database")
            redis = None
    if redis is None:
        locked = _fail_db(name, limit, window, lockout, now or utcnow())
    if locked:
        from app.notify.service import audit

        audit(
            None,
            "login_locked",
            "login",
            name[:32],
            f"连续 {limit} 次登录失败，锁定 {math.ceil(lockout / 60)} 分钟；来源地址 {address or '未知'}",
        )
        log.warning("login locked for %s after %d failures from %s", name, limit, address)
    return locked


def register_success(username: str) -> None:
    """A successful sign-in clears the username's count. Flushes."""
    name = _key(username)
    redis = redis_client()
    if redis is not None:
        try:
            redis.delete(FAIL_KEY + name)
            return
        except Exception:
            log.warning("lock-out: Redis unavailable, clearing in the database")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    db.session.flush()


def release(username: str) -> None:
    """Lift a lock and forget the count (an administrator's override; tests). Flushes."""
    name = _key(username)
    redis = redis_client()
    if redis is not None:
        try:
            redis.delete(FAIL_KEY + name, LOCK_KEY + name)
        except Exception:
            log.warning("lock-out: Redis unavailable, releasing in the database")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    db.session.flush()


def _fail_redis(redis, name: str, limit: int, window: int, lockout: int) -> int:
    pipe = redis.pipeline()
    pipe.set(FAIL_KEY + name, 0, ex=window, nx=True)  # the window starts with the first failure
    pipe.incr(FAIL_KEY + name)
    count = pipe.execute()[1]
    if count < limit:
        return 0
    # Only the request that reaches the limit starts (and audits) the lock.
    pipe = redis.pipeline()
    pipe.set(LOCK_KEY + name, "1", ex=lockout)
    pipe.delete(FAIL_KEY + name)
    pipe.execute()
    return lockout if count == limit else 0


def _row_for_update(name: str, now: datetime) -> LoginFailure:
    query = select(LoginFailure).where(LoginFailure.username == name).with_for_update()
    row = db.session.scalar(query)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = LoginFailure(username=name, failures=0, window_start=now)
            db.session.add(row)
        return row
    except IntegrityError:  # another worker inserted it first: take theirs, locked
        return db.session.scalar(query.execution_options(populate_existing=True))


def _fail_db(name: str, limit: int, window: int, lockout: int, now: datetime) -> int:
    row = _row_for_update(name, now)
    if _aware(row.window_start) <= now - timedelta(seconds=window):
        row.failures, row.window_start = 0, now
    row.failures += 1
    locked = 0
    if row.failures >= limit:
        row.locked_until = now + timedelta(seconds=lockout)
        row.failures, row.window_start = 0, now
        locked = lockout
    db.session.flush()
    return locked


def prune(now: datetime | None = None) -> int:
    """Delete rows whose window and lock are both over (the retention sweep calls it)."""
    now = now or utcnow()
    _, window, _ = _settings()
    rows = db.session.scalars(select(LoginFailure)).all()
    stale = [
        r
        for r in rows
        if _aware(r.window_start) <= now - timedelta(seconds=window)
        and (r.locked_until is None or _aware(r.locked_until) <= now)
    ]
    for row in stale:
        db.session.delete(row)
    db.session.flush()
    return len(stale)

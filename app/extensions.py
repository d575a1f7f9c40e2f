"""Extension objects, unbound; ``create_app`` binds them."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Storage is RATELIMIT_STORAGE_URI: Redis when configured (shared by all workers), else memory.
# A Redis outage must not take the public pages down: fall back to per-process counting.
limiter = Limiter(
    get_remote_address, headers_enabled=True, swallow_errors=True, in_memory_fallback_enabled=True
)


def init_redis(app: Flask) -> None:
    """Give the app its Redis client, or ``None`` when ``REDIS_URL`` is unset (embedded mode).

    Kept per app in ``app.extensions`` (never a module global), so several apps in one
    process, as in the tests, each talk to their own Redis.
    """
    url = app.config.get("REDIS_URL")
    client = None
    if url:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # One quick retry, not redis-py's default ten with back-off: while Redis is down every
        # caller falls back at once (in-process limits, the database), instead of waiting seconds.
        client = redis.Redis.from_url(
            url,
            socket_timeout=2,
            socket_connect_timeout=2,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 1),
        )
    app.extensions["redis"] = client


def redis_client():
    """The current app's Redis client, or ``None`` in embedded mode."""
    return current_app.extensions.get("redis")

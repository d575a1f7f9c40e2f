"""Pooled PostgreSQL connections: checked when they sat idle, not on every request.

SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` on every checkout: a whole round trip
before each request's first query, which on the WeChat endpoint cost as much as one of
its statements. Under load a connection is reused within milliseconds and is known good,
so this pings only a connection that sat idle longer than ``IDLE_PING_S`` (a database
restart, a failover or a firewall dropping idle sockets happens while it sat). A stale
connection found then is replaced before the request sees it. One that goes bad while in
use fails its request as before; SQLAlchemy then recycles the whole pool, and the WeChat
endpoint tries such a push once more on a fresh connection.
"""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from app.extensions import db

IDLE_PING_S = 10.0


def init_pool(app: Flask) -> None:
    """Ping idle connections on checkout (PostgreSQL; SQLite has no connection to lose)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("idle connection is gone") from exc

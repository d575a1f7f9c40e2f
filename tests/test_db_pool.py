"""Pooled PostgreSQL connections are pinged only after sitting idle, and replaced if dead."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from app import db_pool
from app.extensions import db
from tests.conftest import make_test_app

pytestmark = pytest.mark.real_commits


def _backend_pid() -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.fixture
def pg_app(pg_databases):
    app = make_test_app(pg_databases.create("pool"), SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_busy_connection_is_not_pinged(pg_app):
    with pg_app.app_context():
        sent: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        first = _backend_pid()
        assert _backend_pid() == first
        assert sent == ["SELECT pg_backend_pid()"] * 2  # no SELECT 1 in between


def test_an_idle_connection_the_database_dropped_is_replaced(pg_app, pg_databases, monkeypatch):
    monkeypatch.setattr(db_pool, "IDLE_PING_S", 0.0)  # every checkout counts as after a pause
    with pg_app.app_context():
        dropped = _backend_pid()
        with pg_databases.admin.connect() as admin:  # a restart or a firewall, as far as we know
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        assert _backend_pid() != dropped  # no error: the pool found out before the request did

"""Test fixtures: one database per test session, every test rolled back.

Backends: by default SQLite and no Redis (the embedded mode). With ``REQUIRE_SERVICES=1``
the whole suite runs on PostgreSQL and Redis (``TEST_PG_URL``, ``TEST_REDIS_URL``), and a
missing service fails the run instead of skipping. Tests that need PostgreSQL or Redis
whatever the backend use the ``pg_url`` / ``redis_url`` fixtures, which skip when the
service is unreachable (and fail under ``REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from flask import g, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.security import generate_password_hash

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Apps the tests build must not start the embedded scheduler thread behind the tests' backs.
os.environ.setdefault("SCHEDULER_IN_PROCESS", "0")
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_test_url() -> str:
    """The tests' Redis database; under pytest-xdist each worker takes its own (15, 14, ...)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - int(worker[2:])}"


REDIS_TEST_URL = _redis_test_url()

TEST_FIELD_KEY = "pV2QW6Vt0w1Zb7m8mF0vXJ3uT1qzB2o0q6o1m7nKc2Y="
pytest_plugins = ["tests.factories", "tests.browser_fixtures"]


def _sa_url(url: str) -> str:
    from app.config import _normalise_db_url

    return _normalise_db_url(url)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(_sa_url(PG_ADMIN_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


def _redis_reachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:
        return str(exc)


def _service_or_skip(name: str, problem: str | None) -> None:
    if problem is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but unreachable: {problem}")
    pytest.skip(f"{name} unreachable: {problem}")


class PgDatabases:
    """Creates throw-away PostgreSQL databases on the test server and drops them after."""

    def __init__(self) -> None:
        self.admin = create_engine(_sa_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, label: str = "t") -> str:
        name = f"jzd_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    _service_or_skip("PostgreSQL", _pg_reachable())
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PgDatabases) -> str:
    """An empty PostgreSQL database of its own, for tests that must run on PostgreSQL."""
    return pg_databases.create("pg")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for tests that must talk to Redis (flushed once per session)."""
    _service_or_skip("Redis", _redis_reachable())
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    return REDIS_TEST_URL


@pytest.fixture(scope="session")
def main_database_url(tmp_path_factory) -> str:
    if REQUIRE_SERVICES:
        _service_or_skip("PostgreSQL", _pg_reachable())
        dbs = PgDatabases()
        url = dbs.create("main")
        yield url
        dbs.drop_all()
    else:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@functools.cache
def _test_instance_path() -> str:
    """One instance folder per test process: exports, report caches and the scheduler's file
    lock of parallel workers (pytest-xdist) never meet."""
    return tempfile.mkdtemp(prefix="jzd-instance-")


def make_test_app(database_url: str, redis: str | None = None, **extra):
    """An app configured for tests against the given database."""
    from app import create_app

    config = {
        "INSTANCE_PATH": _test_instance_path(),
        "APP_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        # A real Fernet key, as production needs (app/security/crypto.py).
        "FIELD_ENCRYPTION_KEY": TEST_FIELD_KEY,
        # Every test signs in from 127.0.0.1: the per-address sign-in limit is tested on its own.
        "CONSOLE_LIMIT_LOGIN_ADDRESS": "100000/minute",
        # Under Redis failure counts outlive each test; the lock-out is tested on its own
        # (tests/security), with its own limit.
        "LOGIN_MAX_FAILURES": 1000,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://jzd.test",
        "SERVER_NAME": None,
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def app(main_database_url, tmp_path_factory):
    """The application, its schema built by the Alembic migrations once per session."""
    redis = None
    if REQUIRE_SERVICES:
        _service_or_skip("Redis", _redis_reachable())
        import redis as redis_lib

        redis_lib.Redis.from_url(REDIS_TEST_URL).flushdb()
        redis = REDIS_TEST_URL
    application = make_test_app(
        main_database_url, redis, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads"))
    )
    from flask_migrate import upgrade

    from app.extensions import db
    from app.workdays.service import sync_from_library

    with application.app_context():
        upgrade()
        sync_from_library()
        db.session.commit()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request):
    """Run each test inside a transaction that is rolled back afterwards.

    Views commit as usual; their commits release a SAVEPOINT inside the outer transaction.
    Tests marked ``real_commits`` (concurrency) skip this and clean up after themselves.
    """
    # Live-server (browser) tests run on their own database, committing for real.
    if "real_commits" in request.keywords or "live_app" in request.fixturenames:
        yield None
        return
    app = request.getfixturevalue("app")
    from app.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        from flask_sqlalchemy.session import _app_ctx_id

        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def fresh_request_globals():
    """Forget the per-request user and CSRF token between requests.

    The test client reuses the test's app context, and with it ``g``, where Flask-Login
    caches the signed-in user and Flask-WTF the CSRF token; a real server starts each
    request with a fresh ``g``, and so must two test clients taking turns.
    """

    def clear(sender, **extra):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    request_started.connect(clear)
    yield
    request_started.disconnect(clear)


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    """Cheap password hashes: these tests build many accounts; the hash method is not under test."""
    monkeypatch.setattr(
        "app.auth.models.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_configure(config):
    config.addinivalue_line("markers", "real_commits: test commits for real and cleans up itself")
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")

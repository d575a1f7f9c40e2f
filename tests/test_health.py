"""``GET /healthz``: the database must answer; Redis is reported but never fails the check."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.conftest import make_test_app

# These tests build apps of their own; the session-wide rollback fixture must stay out of the way.
OWN_APP = pytest.mark.real_commits

# Nothing listens on port 1: connections are refused at once.
CLOSED_PG_URL = "postgresql://postgres@127.0.0.1:1/jzd"
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def other_app(tmp_path):
    """Build extra apps without migrations."""
    made = []

    def make(database_url: str | None = None, redis: str | None = None):
        application = make_test_app(database_url or "sqlite:///" + str(tmp_path / "health.db"), redis)
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@OWN_APP
def test_embedded_default(other_app):
    response = other_app().test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok", "redis": "off"}


def test_session_app(client, app):
    body = client.get("/healthz").get_json()
    assert body["db"] == "ok"
    assert body["redis"] == ("ok" if app.config["REDIS_URL"] else "off")


@OWN_APP
def test_with_redis(other_app, redis_url):
    response = other_app(redis=redis_url).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok", "redis": "ok"}


@OWN_APP
def test_database_unreachable_is_503(other_app):
    response = other_app(CLOSED_PG_URL).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json() == {"status": "error", "db": "error", "redis": "off"}


@OWN_APP
def test_redis_unreachable_is_reported_but_still_serving(other_app):
    response = other_app(redis=CLOSED_REDIS_URL).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok", "redis": "error"}


@OWN_APP
def test_both_unreachable(other_app):
    response = other_app(CLOSED_PG_URL, CLOSED_REDIS_URL).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "error", "redis": "error"}


@OWN_APP
def test_each_app_keeps_its_own_redis(other_app):
    first = other_app()
    other_app(redis=CLOSED_REDIS_URL)  # a later app must not change what the first one uses
    assert first.test_client().get("/healthz").get_json()["redis"] == "off"

"""Fixtures shared by the auth and console tests."""

from __future__ import annotations

import pytest
from flask import g, request_started
from werkzeug.security import generate_password_hash

from tests.auth.world import World, build_world


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    """Cheap password hashes: these tests build many accounts; the hash method is not under test."""
    monkeypatch.setattr(
        "app.auth.models.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


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


@pytest.fixture
def world(region_tree, make_region, make_station, make_deputy, make_unit, make_user) -> World:
    return build_world(region_tree, make_region, make_station, make_deputy, make_unit, make_user)

"""Fixtures shared by the auth and console tests."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from tests.auth.world import World, build_world


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch):
    """Cheap password hashes: these tests build many accounts; the hash method is not under test."""
    monkeypatch.setattr(
        "app.auth.models.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


@pytest.fixture
def world(region_tree, make_region, make_station, make_deputy, make_unit, make_user) -> World:
    return build_world(region_tree, make_region, make_station, make_deputy, make_unit, make_user)

"""Fixtures shared by the auth and console tests."""

from __future__ import annotations

import pytest

from tests.auth.world import World, build_world


@pytest.fixture
def world(region_tree, make_region, make_station, make_deputy, make_unit, make_user) -> World:
    return build_world(region_tree, make_region, make_station, make_deputy, make_unit, make_user)

"""Markers of the operations tests."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "drill: a fault drill of scripts/drills (runs with REQUIRE_SERVICES=1 or RUN_DRILLS=1)"
    )

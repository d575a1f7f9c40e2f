"""Fixtures for the outbox: the in-process WeChat mock, cleared around each test."""

from __future__ import annotations

import pytest

from app.wechat.mock import mock_state


@pytest.fixture
def mock_api(app):
    """The in-process mock's record and faults, cleared before and after the test."""
    state = mock_state(app.extensions["wechat_mock_app"])
    state.clear_requests()
    state.clear_faults()
    yield state
    state.clear_faults()


def sends(state, path: str = "/cgi-bin/message/template/send") -> list[dict]:
    """Calls the mock answered with success and did not drop as repeats: real deliveries."""
    return [r for r in state.requests(path) if r.get("errcode") == 0 and not r.get("duplicate")]

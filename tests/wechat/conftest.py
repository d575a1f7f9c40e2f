"""Fixtures for driving ``/wechat`` and the mock WeChat API."""

from __future__ import annotations

import uuid

import pytest

from app.wechat.mock import mock_state
from tests.wechat.sender import WeChatSender

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def wx(app, client) -> WeChatSender:
    """WeChat's servers, pushing plain messages to ``/wechat``."""
    return WeChatSender(client, app.config["WECHAT_TOKEN"], app.config["WECHAT_APPID"])


@pytest.fixture
def wx_aes(app, client, monkeypatch) -> WeChatSender:
    """WeChat's servers in 安全模式: the app gets an EncodingAESKey for this test."""
    monkeypatch.setitem(app.config, "WECHAT_AES_KEY", AES_KEY)
    app.extensions.pop("wechat_crypto", None)
    yield WeChatSender(client, app.config["WECHAT_TOKEN"], app.config["WECHAT_APPID"], AES_KEY)
    app.extensions.pop("wechat_crypto", None)


@pytest.fixture
def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


@pytest.fixture
def mock_api(app):
    """The in-process mock's record and faults, cleared before and after the test."""
    state = mock_state(app.extensions["wechat_mock_app"])
    state.clear_requests()
    state.clear_faults()
    yield state
    state.clear_faults()

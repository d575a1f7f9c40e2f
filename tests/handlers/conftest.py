"""Handlers are driven through ``/wechat`` with the same fixtures as the endpoint tests."""

from tests.wechat.conftest import mock_api, openid, wx, wx_aes  # noqa: F401

"""The official account: message endpoint, WeChat API client, mock API, OAuth for H5 pages."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware


def mount_mock(app: Flask) -> None:
    """Serve the mock WeChat API in-process under ``WECHAT_MOCK_PREFIX`` (never in production).

    The embedded default points ``WECHAT_API_BASE`` there, so one process runs offline; the
    client reaches it without a socket (see ``transport.py``), browsers and outside checks
    over HTTP at the same address.
    """
    if app.config["APP_ENV"] == "production":
        return
    from app.wechat.mock import create_mock_app

    mock = create_mock_app()
    from app.security import headers

    headers.init_app(mock)  # the same security headers as the app it is mounted in
    app.extensions["wechat_mock_app"] = mock
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {app.config["WECHAT_MOCK_PREFIX"]: mock})

"""Security at the edges: headers and CSP, field encryption, masking, login lock-out, retention."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the security pieces into the app: headers on every answer, masked logs, the CLI."""
    from app.security import crypto, headers, json_guard, masking
    from app.security.cli import retention_cli

    crypto.init_app(app)
    headers.init_app(app)
    json_guard.init_app(app)
    masking.install_log_masking()
    app.cli.add_command(retention_cli)

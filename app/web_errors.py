"""Errors at the edge: one JSON shape for APIs, one Chinese page for browsers."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError
from app.extensions import db

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("unauthorized", "请先登录。"),
    403: ("forbidden", "您没有权限访问此页面。"),
    404: ("not_found", "您要找的页面不存在。"),
    405: ("method_not_allowed", "不支持该请求方式。"),
    409: ("conflict", "请求与当前状态冲突。"),
    413: ("too_large", "提交的内容过大。"),
    415: ("unsupported_media_type", "不支持的内容类型。"),
    422: ("validation_failed", "提交的内容有误。"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试。"),
    500: ("server_error", "服务器开小差了，请稍后再试。"),
    503: ("unavailable", "服务暂时不可用，请稍后再试。"),
}


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or (request.accept_mimetypes.best == "application/json")
    )


def error_response(status: int, code: str | None = None, message: str | None = None):
    """The response for an error: JSON ``{"error": {"code", "message"}}`` or a Chinese page."""
    default_code, default_message = HTTP_MESSAGES.get(status, ("error", "请求未能完成。"))
    code = code or default_code
    message = message or default_message
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return make_response(render_template("error.html", status=status, message=message)), status


def _is_outage(exc: Exception) -> bool:
    """A database error that means "not reachable now", as opposed to a bad statement."""
    import psycopg

    if getattr(exc, "connection_invalidated", False):
        return True
    orig = getattr(exc, "orig", None)
    if isinstance(orig, psycopg.OperationalError):
        return True
    return "database is locked" in str(exc)  # SQLite under write contention


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return error_response(400, "csrf_failed", "页面已过期或来源无效，请刷新后重试。")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        # Our own abort(…, description) carries a Chinese message; Werkzeug's defaults don't.
        message = exc.description if getattr(exc, "chinese", False) else None
        response, status = error_response(status, None, message)
        # Keep what the exception says about the request (Allow on 405, Retry-After on 429…).
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response, status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: Exception):
        # The database is down or restarting (connection refused, "shutting down", a dropped
        # connection): nothing was stored, so say "try again" with a 503, not a 500.
        if not _is_outage(exc):
            return _unexpected(exc)  # e.g. SQLite's "no such table" is a bug, not an outage
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is discarded at teardown anyway
            current_app.logger.debug("rollback after a database outage failed", exc_info=True)
        current_app.logger.error(
            "database unavailable on %s %s: %s", request.method, request.path, str(exc).splitlines()[0]
        )
        response, status = error_response(503)
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)

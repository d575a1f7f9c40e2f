"""``GET|POST /wechat``: the official account's message endpoint, as WeChat's servers expect it.

A small WSGI application of its own, mounted in front of Flask's dispatch (``mount``): the
pushes come from WeChat's servers, never from a browser, so nothing of the page pipeline
applies to them — no session cookie, CSRF token, login, rate limit or page hooks — which
was about a fifth of a push's CPU (README → Benchmarks).
What does apply is kept: an application context (the database session and its teardown),
the request id on every log line and in the answer, the request metrics, security headers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl

from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError
from wechatpy.crypto import WeChatCrypto
from werkzeug.wsgi import get_input_stream

from app import observability
from app.extensions import db
from app.security.headers import fixed_headers
from app.wechat import service
from app.wechat.protocol import (
    MAX_BODY_BYTES,
    BadMessage,
    BadSignature,
    Inbound,
    open_message,
    render_reply,
    verify_request,
)
from handlers import route

PATH = "/wechat"
SORRY = "系统繁忙，请稍后再试。"

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass(slots=True)
class Answer:
    """What the endpoint sends back: a plain-text or XML body and a status."""

    body: str
    status: int = 200


def mount(app: Flask) -> None:
    """Answer ``/wechat`` with ``Endpoint`` before Flask's own dispatch sees the request."""
    app.wsgi_app = Endpoint(app, app.wsgi_app)


class Endpoint:
    """WSGI middleware: ``/wechat`` here, every other path on to ``downstream``."""

    def __init__(self, app: Flask, downstream: WSGIApp) -> None:
        self.app = app
        self.downstream = downstream

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.downstream(environ, start_response)
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        request_id = observability.request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        with self.app.app_context():
            g.request_id = request_id
            try:
                answer = respond(method, environ)
            except Exception:
                current_app.logger.exception("wechat: answering a %s failed", method)
                answer = Answer("internal error", 500)
            observability.observe_request(method, PATH, answer.status, started)
        data = b"" if method == "HEAD" else answer.body.encode("utf-8")
        mimetype = "application/xml" if answer.body.startswith("<xml>") else "text/plain"
        headers = [
            ("Content-Type", f"{mimetype}; charset=utf-8"),
            ("Content-Length", str(len(data))),
            (observability.REQUEST_ID_HEADER, request_id),
            # Answers to WeChat's servers carry the app's security headers (CSP and all) too.
            *fixed_headers(self.app.config),
        ]
        if answer.status == 405:
            headers.append(("Allow", "GET, HEAD, POST"))
        status = HTTPStatus(answer.status)
        start_response(f"{status.value} {status.phrase}", headers)
        return [data]


def respond(method: str, environ: dict) -> Answer:
    """Check the signature (403 before anything else), then verify the URL or handle a push."""
    if method not in ("GET", "HEAD", "POST"):
        return Answer("method not allowed", 405)
    args = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    try:
        verify_request(current_app.config["WECHAT_TOKEN"], args)
    except BadSignature:
        return Answer("invalid signature", 403)
    if method != "POST":
        echostr = args.get("echostr")
        return Answer("echostr missing", 400) if echostr is None else Answer(echostr)

    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Answer("bad request", 400)
    if declared > MAX_BODY_BYTES:
        return Answer("body too large", 413)
    body = get_input_stream(environ).read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return Answer("body too large", 413)
    crypto = _crypto()
    try:
        inbound = open_message(body, args, crypto=crypto)
    except BadSignature:
        return Answer("invalid signature", 403)
    except BadMessage as exc:
        current_app.logger.info("wechat: refused a body: %s", exc)
        return Answer("bad request", 400)

    reply = _handle(inbound)
    return Answer(render_reply(reply, inbound, crypto=crypto, args=args))


def _crypto() -> WeChatCrypto | None:
    app = current_app._get_current_object()
    if "wechat_crypto" not in app.extensions:
        key = app.config.get("WECHAT_AES_KEY")
        app.extensions["wechat_crypto"] = (
            WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"]) if key else None
        )
    return app.extensions["wechat_crypto"]


def _handle(inbound: Inbound) -> str | None:
    """Handle a push exactly once and commit; a failure is logged and answered politely."""
    try:
        try:
            return _handle_once(inbound)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The database dropped a pooled connection (restart, failover): once more on a
            # fresh one. Pooled connections are pinged only after sitting idle (app/db_pool.py).
            db.session.rollback()
            return _handle_once(inbound)
    except Exception as exc:
        db.session.rollback()
        return _failed(inbound, exc)


def _handle_once(inbound: Inbound) -> str | None:
    handler = route(inbound)
    if handler.repeatable:
        service.statements_commit_alone()
    reply, claimed = service.receive(inbound, handler)
    if not claimed:
        # Another delivery of this push was first: undo ours, answer as it was answered.
        db.session.rollback()
        reply = service.repeated_delivery(inbound)
    db.session.commit()
    return reply


def _failed(inbound: Inbound, exc: Exception) -> str:
    current_app.logger.error("wechat: handling %s failed", inbound.dedup_key, exc_info=exc)
    try:
        service.record_failure(inbound, type(exc).__name__, SORRY)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("wechat: could not log the failure of %s", inbound.dedup_key)
    return SORRY

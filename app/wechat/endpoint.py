"""``GET|POST /wechat``: the official account's message endpoint, as WeChat's servers expect it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DBAPIError
from wechatpy.crypto import WeChatCrypto

from app.extensions import db
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
from handlers import dispatch
from handlers.registry import is_repeatable

bp = Blueprint("wechat", __name__)

SORRY = "系统繁忙，请稍后再试。"


def _crypto() -> WeChatCrypto | None:
    app = current_app._get_current_object()
    if "wechat_crypto" not in app.extensions:
        key = app.config.get("WECHAT_AES_KEY")
        app.extensions["wechat_crypto"] = (
            WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"]) if key else None
        )
    return app.extensions["wechat_crypto"]


def _text(body: str, status: int = 200) -> Response:
    mimetype = "application/xml" if body.startswith("<xml>") else "text/plain"
    return Response(body, status=status, mimetype=mimetype)


@bp.route("/wechat", methods=["GET", "POST"])
def endpoint():
    try:
        verify_request(current_app.config["WECHAT_TOKEN"], request.args)
    except BadSignature:
        return _text("invalid signature", 403)
    if request.method == "GET":
        echostr = request.args.get("echostr")
        if echostr is None:
            abort(400)
        return _text(echostr)

    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _text("body too large", 413)
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _text("body too large", 413)
    crypto = _crypto()
    try:
        inbound = open_message(body, request.args, crypto=crypto)
    except BadSignature:
        return _text("invalid signature", 403)
    except BadMessage as exc:
        current_app.logger.info("wechat: refused a body: %s", exc)
        return _text("bad request", 400)

    reply = _handle(inbound)
    return _text(render_reply(reply, inbound, crypto=crypto, args=request.args))


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
    if is_repeatable(inbound):
        service.statements_commit_alone()
    reply, claimed = service.receive(inbound, dispatch)
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

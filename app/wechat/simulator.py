"""The console's WeChat simulator: build a push as WeChat would, sign it, post it to ``/wechat``.

The push goes through the whole endpoint (signature, AES when configured, dedup, handlers),
in-process, so it works behind any proxy and with a single worker.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from itertools import count

from flask import current_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto
from werkzeug.test import Client

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.stations.models import Station
from app.wechat.models import InboundMessage
from app.wechat.protocol import parse_xml, sign_args
from app.wechat.service import subscriber_of

# Test identities only: real openids start with "o", so a tester can never act as a resident.
# Test identities only: real openids start with "o", so a tester can never act as a resident.
OPENID_RE = re.compile(r"^sim-[A-Za-z0-9_-]{1,60}$")
_msg_ids = count(int(time.time() * 1000) % 10**12 * 1000)


@dataclass
class SimulatedExchange:
    """What the simulator sent and what the official account answered."""

    sent_xml: str
    status: int
    reply: str | None
    raw_reply: str
    encrypted: bool


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(openid: str, msg_type: str, fields: list[tuple[str, str | int | float]]) -> str:
    parts = [
        f"<ToUserName>{_cdata(current_app.config['WECHAT_APPID'])}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for tag, value in fields:
        parts.append(f"<{tag}>{value if isinstance(value, int | float) else _cdata(value)}</{tag}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _coordinate(raw: object, label: str, bound: float) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValidationFailed(f"{label}应为数字。", field=label) from None
    if not -bound <= value <= bound:
        raise ValidationFailed(f"{label}超出范围。", field=label)
    return value


def build_push(openid: str, kind: str, data: dict, stations: list[Station]) -> str:
    """The XML WeChat would push for what the tester did (``stations``: those they may scan)."""
    if not OPENID_RE.match(openid or ""):
        raise ValidationFailed(
            "测试 openid 须以 sim- 开头，只含字母、数字、下划线和短横线（最多 64 位）。", field="openid"
        )
    if kind == "text":
        content = str(data.get("content") or "").strip()
        if not content:
            raise ValidationFailed("请输入要发送的文字。", field="content")
        if len(content) > 2000:
            raise ValidationFailed("文字太长了（最多 2000 字）。", field="content")
        return _xml(openid, "text", [("Content", content), ("MsgId", next(_msg_ids))])
    if kind == "location":
        lat = _coordinate(data.get("lat"), "纬度", 90)
        lng = _coordinate(data.get("lng"), "经度", 180)
        label = str(data.get("label") or "模拟位置")[:100]
        fields = [("Location_X", lat), ("Location_Y", lng), ("Scale", 15), ("Label", label)]
        return _xml(openid, "location", [*fields, ("MsgId", next(_msg_ids))])
    if kind == "scan":
        code = str(data.get("station_code") or "").strip().lower()
        if not code:
            raise ValidationFailed("请选择要扫码的家站点。", field="station_code")
        if code not in {s.code for s in stations}:
            raise NotFound("未找到该家站点。")  # outside the tester's scope, as everywhere in the console
        subscriber = subscriber_of(openid)
        ticket = ("Ticket", "gQsimulated" + secrets.token_hex(8))
        if subscriber is None or not subscriber.subscribed:
            # Scanning a parametric QR without following: WeChat sends subscribe + qrscene_.
            return _xml(openid, "event", [("Event", "subscribe"), ("EventKey", f"qrscene_{code}"), ticket])
        return _xml(openid, "event", [("Event", "SCAN"), ("EventKey", code), ticket])
    if kind in ("subscribe", "unsubscribe"):
        return _xml(openid, "event", [("Event", kind), ("EventKey", "")])
    if kind == "click":
        key = str(data.get("key") or "").strip()
        if not re.match(r"^[A-Z_]{1,64}$", key):
            raise ValidationFailed("菜单键无效。", field="key")
        return _xml(openid, "event", [("Event", "CLICK"), ("EventKey", key)])
    raise ValidationFailed("不支持的模拟操作。", field="kind")


def post_push(xml: str, *, encrypted: bool) -> SimulatedExchange:
    """Sign (and encrypt) ``xml`` like WeChat, post it to ``/wechat`` in-process, read the reply."""
    app = current_app._get_current_object()
    args = sign_args(app.config["WECHAT_TOKEN"])
    body = xml
    crypto = None
    if encrypted:
        key = app.config.get("WECHAT_AES_KEY")
        if not key:
            raise ValidationFailed("未配置 WECHAT_AES_KEY，不能模拟安全模式。", field="aes")
        crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"])
        envelope = parse_xml(crypto.encrypt_message(xml, args["nonce"], args["timestamp"]))
        body = (
            f"<xml><ToUserName>{_cdata(app.config['WECHAT_APPID'])}</ToUserName>"
            f"<Encrypt>{_cdata(envelope['Encrypt'])}</Encrypt></xml>"
        )
        args.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    # The endpoint runs in its own app context and session; end ours so SQLite is not locked.
    db.session.commit()
    response = Client(app).post("/wechat", query_string=args, data=body.encode("utf-8"))
    raw = response.get_data(as_text=True)
    reply = None
    if response.status_code == 200 and raw.startswith("<xml>"):
        fields = parse_xml(raw)
        if "Encrypt" in fields and crypto is not None:
            fields = parse_xml(
                crypto.decrypt_message(raw, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            )
        reply = fields.get("Content")
    return SimulatedExchange(xml, response.status_code, reply, raw, encrypted)


def simulate(
    openid: str, kind: str, data: dict, *, stations: list[Station], encrypted: bool
) -> SimulatedExchange:
    """Do what a tester did on the simulated phone and return the official account's answer."""
    return post_push(build_push(openid, kind, data, stations), encrypted=encrypted)


def recent_pushes(openid: str, limit: int = 8) -> list[InboundMessage]:
    """The audit log of a test openid, newest first."""
    return list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.openid == openid)
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(limit)
        )
    )

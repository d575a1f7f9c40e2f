"""The wire protocol of the message endpoint: signatures, safe XML, 安全模式 (AES).

wechatpy does the protocol work (signatures, AES, message classes, reply XML); this module
makes it safe to feed with what arrives from the internet: every body is parsed by
defusedxml first (no DTD, no entities: XXE and billion-laughs bodies are refused before
anything else reads them), and only then handed to wechatpy.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy import create_reply
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage
from wechatpy.utils import check_signature

# WeChat's pushes are a few hundred bytes; anything near this is not from WeChat.
MAX_BODY_BYTES = 64 * 1024
# WeChat refuses text replies over 2048 bytes; stay clear of it.
MAX_REPLY_BYTES = 2000


class BadSignature(Exception):
    """The request is not signed with our token: refuse it, process nothing."""


class BadMessage(Exception):
    """The body is not a message WeChat would send (bad XML, DTD/entities, missing fields)."""


@dataclass
class Inbound:
    """One parsed push: wechatpy's message object and the raw fields as WeChat sent them."""

    message: BaseMessage
    fields: dict
    encrypted: bool

    @property
    def openid(self) -> str:
        return str(self.fields.get("FromUserName") or "")

    @property
    def msg_type(self) -> str:
        return str(self.fields.get("MsgType") or "").lower()

    @property
    def event(self) -> str:
        """The event as WeChat named it (lower case), before wechatpy renames qrscene subscribes."""
        return str(self.fields.get("Event") or "").lower() if self.msg_type == "event" else ""

    @property
    def dedup_key(self) -> str:
        """``msg:<MsgId>`` for messages; events have none, so sender + CreateTime + event.

        An event's key also carries what sets it apart from another of the same second: its
        ``EventKey`` (two menu buttons tapped within a second are two questions, not one
        delivered twice) or its ``MsgID`` (the delivery reports of two template messages).
        WeChat's retries repeat all of these, so they still find the first delivery.
        """
        msg_id = self.fields.get("MsgId") or self.fields.get("MsgID")
        if self.msg_type != "event" and msg_id:
            return f"msg:{msg_id}"
        key = f"evt:{self.openid}:{self.fields.get('CreateTime', '')}:{self.event or self.msg_type}"
        which = str(self.fields.get("EventKey") or msg_id or "")
        if len(which) > 40:  # a VIEW's URL: its digest keeps the key short and still distinct
            which = hashlib.sha1(which.encode("utf-8")).hexdigest()  # noqa: S324 - an identifier
        return f"{key}:{which}" if which else key


def verify_request(token: str, args) -> None:
    """Check ``signature`` (sha1 of token, timestamp, nonce) on every request."""
    signature, timestamp, nonce = (args.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (signature and timestamp and nonce):
        raise BadSignature("missing signature, timestamp or nonce")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise BadSignature("signature mismatch") from None


def sign_args(token: str) -> dict:
    """Fresh ``signature``, ``timestamp`` and ``nonce`` query arguments, as WeChat sends them."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def _to_dict(element: Element):
    """Children by tag (a repeated tag, e.g. ``PicList/item``, as a list), as xmltodict reads them."""
    children = list(element)
    if not children:
        return element.text
    found: dict = {}
    for child in children:
        value = _to_dict(child)
        if child.tag not in found:
            found[child.tag] = value
        elif isinstance(found[child.tag], list):
            found[child.tag].append(value)
        else:
            found[child.tag] = [found[child.tag], value]
    return found


def _stripped(value):
    # xmltodict trims the text of every element; wechatpy's fields are read from that.
    if isinstance(value, dict):
        return {key: _stripped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    return value.strip() if isinstance(value, str) else value


def message_of(fields: dict) -> BaseMessage:
    """wechatpy's message or event object for a parsed push.

    What ``wechatpy.parse_message`` builds from the XML, from the fields already read
    (safely) instead of parsing the body a second time: the class by ``MsgType`` and
    ``Event``, and a ``qrscene_`` subscribe (or a product scan) renamed as wechatpy does.
    """
    data = _stripped(fields)
    message_type = str(data.get("MsgType") or "").lower()
    if message_type != "event" and not message_type.startswith("device_"):
        return MESSAGE_TYPES.get(message_type, UnknownMessage)(data)
    event_type = str(data["Event"]).lower() if data.get("Event") else None
    if message_type.startswith("device_"):
        event_type = f"device_{event_type}" if event_type else message_type
    event_key = str(data.get("EventKey") or "")
    if event_type == "subscribe" and event_key.startswith(("scanbarcode|", "scanimage|")):
        event_type = data["Event"] = "subscribe_scan_product"
    elif event_type == "subscribe" and event_key.startswith("qrscene_"):
        event_type = data["Event"] = "subscribe_scan"
        data["EventKey"] = event_key[len("qrscene_") :]
    return EVENT_TYPES.get(event_type, UnknownMessage)(data)


def parse_xml(body: bytes | str) -> dict:
    """The ``<xml>`` document as a dict of its children; refuses DTDs, entities and junk."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if len(body) > MAX_BODY_BYTES:
        raise BadMessage("body too large")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise BadMessage(f"unsafe or malformed XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    fields = _to_dict(root)
    return fields if isinstance(fields, dict) else {}


def open_message(body: bytes, args, *, crypto: WeChatCrypto | None) -> Inbound:
    """Parse a push, decrypting it when WeChat sent it in 安全模式 (``encrypt_type=aes``)."""
    fields = parse_xml(body)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if encrypted:
        if crypto is None:
            raise BadMessage("encrypted message but no WECHAT_AES_KEY configured")
        if not fields.get("Encrypt"):
            raise BadMessage("encrypt_type=aes without <Encrypt>")
        try:
            plain = crypto.decrypt_message(
                {"Encrypt": fields["Encrypt"]},
                args.get("msg_signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise BadSignature("msg_signature mismatch") from None
        except InvalidAppIdException:
            raise BadSignature("message for another AppID") from None
        except Exception as exc:  # corrupt ciphertext: bad base64, padding or length
            raise BadMessage(f"cannot decrypt: {type(exc).__name__}") from None
        fields = parse_xml(plain)
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise BadMessage("MsgType or FromUserName missing")
    return Inbound(message=message_of(fields), fields=fields, encrypted=encrypted)


def fit_reply(text: str) -> str:
    """Cut a reply to WeChat's size limit at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REPLY_BYTES:
        return text
    return data[: MAX_REPLY_BYTES - 3].decode("utf-8", "ignore") + "…"


def render_reply(text: str | None, inbound: Inbound, *, crypto: WeChatCrypto | None, args) -> str:
    """The HTTP body to answer with: ``success`` for no reply, else a text reply (encrypted if asked)."""
    if text is None:
        return "success"
    xml = create_reply(fit_reply(text), inbound.message).render()
    if inbound.encrypted and crypto is not None:
        return crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return xml

"""Play WeChat's servers in tests: canned XML from the docs, signed (and encrypted) like WeChat does."""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto, _get_signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wechat"

# Unique across the session and across runs sharing a Redis: the endpoint deduplicates by them.
_ids = itertools.count(random.randrange(10**15, 9 * 10**15, 10**6))
_times = itertools.count(int(time.time()) - random.randrange(10**6, 10**8))


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def set_field(xml: str, tag: str, value: object) -> str:
    """Replace the value of ``<tag>`` (numbers bare, text in CDATA), as WeChat would write it."""
    text = str(value)
    body = text if re.fullmatch(r"-?\d+(\.\d+)?", text) else f"<![CDATA[{text}]]>"
    new, count = re.subn(rf"<{tag}>.*?</{tag}>", lambda _m: f"<{tag}>{body}</{tag}>", xml, flags=re.S)
    if count == 0:
        new = xml.replace("</xml>", f"<{tag}>{body}</{tag}>\n</xml>")
    return new


def documented(name: str, **fields) -> str:
    """A documented sample (``tests/fixtures/wechat/<name>.xml``) with fields overridden.

    ``MsgId``/``MsgID`` and ``CreateTime`` get fresh values unless given, so each call is a
    new push to the endpoint's dedup.
    """
    xml = fixture_text(f"{name}.xml")
    if "<MsgId>" in xml and "MsgId" not in fields:
        fields["MsgId"] = next(_ids)
    if "CreateTime" not in fields:
        fields["CreateTime"] = next(_times)
    for tag, value in fields.items():
        xml = set_field(xml, tag, value)
    return xml


def sign(token: str, timestamp: str, nonce: str) -> str:
    # WeChat's scheme, not our choice of hash.
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324


@dataclass
class Answer:
    status: int
    body: str
    content: str | None  # the text reply, decrypted if it was encrypted
    fields: dict

    @property
    def is_success(self) -> bool:
        return self.status == 200 and self.body == "success"


def _fields(xml: str) -> dict:
    return {child.tag: (child.text or "") for child in fromstring(xml)}


class WeChatSender:
    """Posts pushes to ``/wechat`` the way WeChat's servers do, and reads the replies."""

    def __init__(self, client, token: str, appid: str, aes_key: str | None = None) -> None:
        self.client = client
        self.token = token
        self.appid = appid
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def signed_args(self) -> dict:
        timestamp, nonce = str(int(time.time())), str(random.randrange(10**8, 10**9))
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}

    def post(self, xml: str, *, aes: bool = False, args: dict | None = None) -> Answer:
        query = self.signed_args()
        body = xml
        if aes:
            assert self.crypto is not None, "AES needs an aes_key"
            envelope = _fields(self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))
            body = set_field(fixture_text("aes_envelope.xml"), "Encrypt", envelope["Encrypt"])
            body = set_field(body, "ToUserName", _fields(xml).get("ToUserName", "gh_test"))
            query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if args:
            query.update(args)
        response = self.client.post("/wechat", query_string=query, data=body.encode("utf-8"))
        return self._read(response, query)

    def _read(self, response, query) -> Answer:
        text = response.get_data(as_text=True)
        if response.status_code != 200 or not text.startswith("<xml>"):
            return Answer(response.status_code, text, None, {})
        fields = _fields(text)
        if "Encrypt" in fields:
            # Check the reply is signed as WeChat will verify it, then open it.
            expected = _get_signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "reply signature does not verify"
            inner = self.crypto.decrypt_message(
                text, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
            )
            fields = _fields(inner)
        return Answer(response.status_code, text, fields.get("Content"), fields)

    # -- shorthands ------------------------------------------------------------------------

    def text(self, openid: str, content: str, *, aes: bool = False, **fields) -> Answer:
        return self.post(documented("text", FromUserName=openid, Content=content, **fields), aes=aes)

    def subscribe(self, openid: str, station_code: str | None = None, *, aes: bool = False) -> Answer:
        if station_code is None:
            return self.post(documented("event_subscribe", FromUserName=openid), aes=aes)
        xml = documented("event_subscribe_qrscene", FromUserName=openid, EventKey=f"qrscene_{station_code}")
        return self.post(xml, aes=aes)

    def scan(self, openid: str, station_code: str, *, aes: bool = False) -> Answer:
        return self.post(documented("event_scan", FromUserName=openid, EventKey=station_code), aes=aes)

    def click(self, openid: str, key: str, *, aes: bool = False) -> Answer:
        return self.post(documented("event_click", FromUserName=openid, EventKey=key), aes=aes)

    def location(self, openid: str, lat: float, lng: float, *, aes: bool = False) -> Answer:
        xml = documented("location", FromUserName=openid, Location_X=lat, Location_Y=lng)
        return self.post(xml, aes=aes)

"""The floor of ``POST /wechat``: a push's durable work in Python, and nothing else.

A raw WSGI callable — no Flask request handling, no ORM, no handlers, no msg_sec_check, no
opinions, a fixed reply — that still does what any implementation of the endpoint must do
for each push: check the signature, parse the body safely (defusedxml), and on a psycopg
connection in autocommit run the push's statements: a SCAN's follow upsert (as
``app/wechat/service.py`` writes it), a text's read of the sender's followed stations, then
the push's row in ``wechat_inbound`` under its dedup key. ``wechat_endpoint.py --floor``
serves it beside the app and the bare endpoint, under the same gunicorn command and config:
its ratio to the bare endpoint bounds what the endpoint can reach on the machine.

``wechat_floor_intake.py`` serves the same floor with one difference: each 留言 is handled
by the real app.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import psycopg
from defusedxml.ElementTree import fromstring
from flask import Flask

from app.extensions import db

TOKEN = os.environ.get("WECHAT_TOKEN", "bench-token")
REPLY = "您已关注：压测社区人大代表联络站\n地址：压测路1号\n下次接待：12月15日 9:00—11:30"

_FOLLOW = (
    "INSERT INTO wechat_station_follows"
    " (subscriber_id, station_id, via, last_scanned_at, created_at, updated_at)"
    " SELECT id, %(station_id)s, 'scan', %(now)s, %(now)s, %(now)s FROM wechat_subscribers"
    " WHERE openid = %(openid)s AND subscribed"
    " ON CONFLICT (subscriber_id, station_id) DO UPDATE"
    " SET last_scanned_at = excluded.last_scanned_at, updated_at = excluded.updated_at"
    " RETURNING subscriber_id"
)
_SUBSCRIBER = (
    "INSERT INTO wechat_subscribers (openid, subscribed, subscribed_at, created_at, updated_at)"
    " VALUES (%(openid)s, true, %(now)s, %(now)s, %(now)s) ON CONFLICT (openid) DO NOTHING"
)
_FOLLOWED = (
    "SELECT s.id, s.code, s.name, s.address, s.phone, s.status FROM stations s"
    " JOIN wechat_station_follows f ON f.station_id = s.id"
    " JOIN wechat_subscribers w ON w.id = f.subscriber_id"
    " WHERE w.openid = %(openid)s AND s.status = 'active'"
    " ORDER BY f.last_scanned_at DESC, f.id DESC"
)
_INBOUND = (
    "INSERT INTO wechat_inbound (dedup_key, openid, msg_type, event, sent_at, summary, received_at,"
    " last_delivery_at, reply, action, ref) VALUES (%(key)s, %(openid)s, %(type)s, %(event)s,"
    " %(sent_at)s, %(summary)s, %(now)s, %(now)s, %(reply)s, 'floor', '') ON CONFLICT DO NOTHING RETURNING id"
)

_local = threading.local()
_stations: dict[str, int] = {}


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
        conn = _local.conn = psycopg.connect(url, autocommit=True)
        if not _stations:
            _stations.update(conn.execute("SELECT code, id FROM stations").fetchall())
    return conn


def _answer(start_response, status: str, body: bytes, mimetype: str = "text/plain"):
    start_response(status, [("Content-Type", mimetype), ("Content-Length", str(len(body)))])
    return [body]


def floor(environ, start_response):
    return _floor(environ, start_response, None)


def _floor(environ, start_response, opinions):
    args = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    expected = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    if expected != args.get("signature"):
        return _answer(start_response, "403 Forbidden", b"invalid signature")
    body = environ["wsgi.input"].read(min(int(environ.get("CONTENT_LENGTH") or 0), 64 * 1024))
    fields = {child.tag: child.text or "" for child in fromstring(body, forbid_dtd=True)}
    openid, msg_type = fields["FromUserName"], fields["MsgType"]
    if opinions is not None and fields.get("Content", "").startswith("留言"):
        environ["wsgi.input"] = io.BytesIO(body)
        return opinions(environ, start_response)
    event = fields.get("Event", "").lower()
    now = datetime.now(UTC)
    conn = _connection()
    if msg_type == "event":
        follow = {"station_id": _stations.get(fields.get("EventKey", "")), "openid": openid, "now": now}
        if conn.execute(_FOLLOW, follow).fetchone() is None:
            conn.execute(_SUBSCRIBER, follow)
            conn.execute(_FOLLOW, follow)
        key = f"evt:{openid}:{fields['CreateTime']}:{event}:{fields.get('EventKey', '')}"
    else:
        conn.execute(_FOLLOWED, {"openid": openid}).fetchall()
        key = f"msg:{fields['MsgId']}"
    sent_at = datetime.fromtimestamp(int(fields["CreateTime"]), UTC)
    values = {"key": key, "openid": openid, "type": msg_type, "event": event, "sent_at": sent_at}
    values.update(summary=fields.get("Content", fields.get("EventKey", ""))[:200], now=now, reply=REPLY)
    conn.execute(_INBOUND, values)
    xml = (
        f"<xml><ToUserName><![CDATA[{openid}]]></ToUserName>"
        f"<FromUserName><![CDATA[{fields['ToUserName']}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{REPLY}]]></Content></xml>"
    )
    return _answer(start_response, "200 OK", xml.encode("utf-8"), "application/xml")


# A Flask object only so gunicorn.conf.py's hooks run unchanged; every request goes to ``floor``.
app = Flask("floor")
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db.init_app(app)
app.wsgi_app = floor

"""Bad input on every public route: never a 500, never a stored half-record.

The routes come from ``app.url_map`` (everything but the console and static files; the mock
WeChat API is a separate app), so a new public route is covered without touching this file.
Each gets hostile path arguments, query strings, form and JSON bodies (SQL and template
injection, path traversal, huge numbers and strings, emoji, lone surrogates, NUL, empty
fields), invalid UTF-8, XXE, an oversized body, wrong content types and a multipart upload
with a hostile file name. For every refused request (4xx) no table changes and no file is
written under the upload folder; after the lot, every stored opinion is whole.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.extensions import db, limiter
from app.opinions.models import Opinion, OpinionEvent, OpinionPhoto
from tests.factories import PASSWORD
from tests.wechat.sender import sign

SQL = "' OR '1'='1' -- ; DROP TABLE opinions; --"
TEMPLATE = "{{7*7}} {{config}} {% print(7*7) %} ${7*7} <%= 7*7 %>"
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
TRAVERSAL = "../../../../etc/passwd"
EMOJI = "😀🏮👍🏻‍🔥" * 20
HUGE_INT = 10**30
STRINGS = [
    SQL,
    TEMPLATE,
    XSS,
    TRAVERSAL,
    "..\\..\\windows\\win.ini",
    EMOJI,
    "",
    " ",
    "\x00",
    "\u202e\ufeff",
    "9" * 400,
]
JSON_VALUES = [
    HUGE_INT,
    -HUGE_INT,
    2**63,
    -1,
    1.5,
    1e308,
    True,
    None,
    [],
    {"$ne": 1},
    "\ud800",
    SQL,
    TEMPLATE,
]
FIELDS = [
    "content", "name", "mobile", "contact_name", "contact_mobile", "slot", "slot_start", "reception_id",
    "topic", "code", "comment", "satisfaction", "station_code", "username", "password", "category",
    "action", "note", "reason", "text", "unit_code", "deadline", "date", "start", "end", "capacity",
    "slot_capacity", "lat", "lng", "latitude", "longitude", "page", "per_page", "q", "status", "kind",
    "template_id", "into", "deputy_ids", "consent", "templates", "scene", "echostr", "next", "tracking_no",
    "days", "limit", "radius", "month", "id", "type",
]  # fmt: skip
PATH_VALUES = [
    SQL, TEMPLATE, "..%2F..%2Fetc%2Fpasswd", "%FF%FE%00", EMOJI[:8],
    "9" * 60, "-1", str(2**64), "%00", "x" * 300,
]  # fmt: skip
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    "<xml><ToUserName>&xxe;</ToUserName><FromUserName>&b;</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
INVALID_UTF8 = b'{"content": "\xff\xfe\xfa", "name": "\xc3\x28"}'
# Tables a refusal may legitimately write: sign-in failures and the audit of a lock-out.
MAY_CHANGE_ON_REFUSAL = {"login_failures", "audit_log", "alembic_version"}
OVERSIZE_LIMIT = 64 * 1024


def _public_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/console", "/static")):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rules.append((rule, method))
    return sorted(rules, key=lambda rm: (rm[0].rule, rm[1]))


def _route_ids():
    from tests.conftest import make_test_app

    app = make_test_app("sqlite://")
    return [f"{method} {rule.rule}" for rule, method in _public_rules(app)]


ROUTES = _route_ids()


@pytest.fixture
def stage(app, client, world, make_user, monkeypatch):
    """The world, a resident and a staff token, valid path values; limits lifted, bodies capped."""
    from app.auth.models import Role
    from app.receptions.bookings import book_slot

    monkeypatch.setattr(limiter, "enabled", False)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", OVERSIZE_LIMIT)
    booking = book_slot(
        reception=world["reception"],
        slot_start=world["reception"].start,
        resident_id="anon-stage",
        name="李",
        mobile="13900001111",
    )
    station_staff = make_user(Role.STATION_STAFF, world["station"])
    db.session.commit()
    client.environ_base["REMOTE_ADDR"] = f"10.99.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    login = client.post("/api/v1/auth/login", json={"code": f"bad-input-{uuid.uuid4().hex}"})
    assert login.status_code == 200, login.get_json()
    token = client.post(
        "/api/v1/staff/token", json={"username": station_staff.username, "password": PASSWORD}
    )
    assert token.status_code == 200, token.get_json()
    return {
        "resident": {"Authorization": f"Bearer {login.get_json()['token']}"},
        "staff": {"Authorization": f"Bearer {token.get_json()['token']}"},
        "values": {
            "code": world["station"].code,
            "tracking_no": world["opinion"].tracking_no,
            "row_id": "1",
            "relative": "opinions/none.jpg",
        },
        "booking_code": booking.code,
    }


def _counts(app) -> dict[str, int]:
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in MAY_CHANGE_ON_REFUSAL:
            continue
        counts[table.name] = db.session.scalar(select(func.count()).select_from(table))
    return counts


def _files(app) -> set[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return {str(p) for p in root.rglob("*") if p.is_file()}


def _fill(rule, values: dict) -> list[str]:
    """Concrete paths: the valid one first, then each argument hostile in turn."""
    args = sorted(rule.arguments)
    base = {a: values.get(a, "x") for a in args}
    paths = [_build(rule.rule, base)]
    for arg in args:
        for hostile in PATH_VALUES:
            if (
                rule._converters[arg].__class__.__name__ == "IntegerConverter"
                and not hostile.lstrip("-").isdigit()
            ):
                continue
            paths.append(_build(rule.rule, {**base, arg: hostile}))
    return paths


def _build(pattern: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], pattern)


def _signed_query() -> str:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    return f"signature={sign('demo-token', timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}"


def _requests(method: str, path: str, *, full: bool = True):
    """(description, kwargs for client.open) of every hostile request for one path.

    ``full`` False (hostile path arguments): the plain request and one form and JSON body.
    """
    yield "plain", {}
    if not full:
        if method != "GET":
            yield "form", {"data": {name: SQL for name in FIELDS}}
            yield "json", {"json": {name: TEMPLATE for name in FIELDS}}
        return
    for value in STRINGS:
        fields = {name: value for name in FIELDS}
        if method == "GET":
            yield f"query {value[:12]!r}", {"query_string": fields}
        else:
            yield f"form {value[:12]!r}", {"data": fields}
            yield f"json {value[:12]!r}", {"json": fields}
    if method == "GET":
        yield "query invalid utf-8", {"query_string": "q=%FF%FE&content=%C3%28&page=99999999999999999999"}
        return
    for value in JSON_VALUES:
        body = json.dumps({name: value for name in FIELDS}, ensure_ascii=True)
        yield f"json {value!r:.16}", {"data": body, "content_type": "application/json"}
    for body in ("[]", '"x"', "1", "null", "{", '{"a": ' * 2000 + "1" + "}" * 2000):
        yield f"json body {body[:8]!r}", {"data": body, "content_type": "application/json"}
    yield "json invalid utf-8", {"data": INVALID_UTF8, "content_type": "application/json"}
    yield (
        "form invalid utf-8",
        {"data": b"content=%FF%FE%FA&name=%C3%28", "content_type": "application/x-www-form-urlencoded"},
    )
    yield "xxe", {"data": XXE, "content_type": "application/xml"}
    yield "xxe as text/xml", {"data": XXE, "content_type": "text/xml"}
    yield "json as text/plain", {"data": json.dumps({"content": SQL}), "content_type": "text/plain"}
    yield (
        "oversized",
        {
            "data": b"content=" + b"A" * (OVERSIZE_LIMIT + 1024),
            "content_type": "application/x-www-form-urlencoded",
        },
    )
    yield "huge field", {"data": {"content": "长" * 60000, "name": "王", "mobile": "13900001111"}}
    import io

    files = {
        "content": "照片里有路面塌陷的情况，请看。",
        "photos": (
            io.BytesIO(b"<?php system($_GET['c']); ?><script>alert(1)</script>"),
            "../../../evil.php.jpg",
        ),
        "photo": (io.BytesIO(b"GIF89a<script>alert(1)</script>"), "..\\..\\x.html"),
    }
    yield "multipart hostile file", {"data": files, "content_type": "multipart/form-data"}
    from PIL import Image

    good = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(good, "JPEG")
    mixed = {
        "content": "两张照片，第二张不是图片。",
        "station_code": "",
        "photos": [
            (io.BytesIO(good.getvalue()), "ok.jpg"),
            (io.BytesIO(b"MZ\x90\x00 not an image"), "a.exe"),
        ],
    }
    yield "multipart good then bad photo", {"data": mixed, "content_type": "multipart/form-data"}


def _with_query(kwargs: dict, signed: str) -> dict:
    from urllib.parse import urlencode

    query = kwargs.get("query_string")
    if isinstance(query, dict):
        query = urlencode(query)
    return {**kwargs, "query_string": signed + ("&" + query if query else "")}


def _headers_for(path: str, stage) -> dict:
    if path.startswith("/api/v1/staff/") and not path.endswith("/token"):
        return stage["staff"]
    if path.startswith("/api/v1/"):
        return stage["resident"]
    return {}


@pytest.mark.parametrize("route", ROUTES)
def test_never_a_500_never_a_half_record(app, client, stage, route):
    method, pattern = route.split(" ", 1)
    rule = next(r for r, m in _public_rules(app) if r.rule == pattern and m == method)
    values = dict(stage["values"])
    if pattern.startswith("/b/"):
        values["code"] = stage["booking_code"]
    problems = []
    before, files_before = _counts(app), _files(app)
    for index, path in enumerate(_fill(rule, values)):
        for label, kwargs in _requests(method, path, full=index == 0):
            if pattern == "/wechat":  # signed, so the body reaches the XML parser
                kwargs = _with_query(kwargs, _signed_query())
            response = client.open(path, method=method, headers=_headers_for(path, stage), **kwargs)
            db.session.rollback()
            where = f"{method} {path[:80]} [{label}]"
            after, files_after = _counts(app), _files(app)
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
            elif response.status_code >= 400:
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if changed:
                    problems.append(f"{where}: refused with {response.status_code} but wrote {changed}")
                if files_after != files_before:
                    problems.append(f"{where}: refused with {response.status_code} but left files")
            before, files_before = after, files_after
    assert not problems, "\n".join(problems[:20])
    _assert_whole_records(app)


def _assert_whole_records(app) -> None:
    """Whatever was accepted is stored whole: an opinion has its event, its photos' files exist."""
    no_event = db.session.scalar(select(func.count()).select_from(Opinion).where(~Opinion.events.any()))
    assert no_event == 0
    root = Path(app.config["UPLOAD_FOLDER"])
    for path in db.session.scalars(select(OpinionPhoto.path)):
        assert (root / path).is_file(), path
        assert path.endswith(".jpg") and ".." not in path
    assert db.session.scalar(select(func.count()).select_from(OpinionEvent)) >= 1


def test_template_and_script_text_is_shown_literally(app, client, stage, world, login):
    """Injection strings a resident typed come back as text on every page that shows them."""
    response = client.post(
        f"/s/{world['station'].code}/opinion",
        data={"content": f"{TEMPLATE} {XSS} {SQL}", "contact_name": "{{7*7}}", "mobile": ""},
    )
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:300]
    opinion = db.session.scalars(select(Opinion).order_by(Opinion.id.desc())).first()
    assert opinion.content.startswith("{{7*7}}")
    raw = db.session.execute(text("SELECT COUNT(*) FROM opinions")).scalar()
    assert raw >= 2  # the table is still there after the DROP TABLE string
    pages = [f"/t/{opinion.tracking_no}"]
    login(world["city"])
    pages.append(f"/console/opinions/{opinion.tracking_no}")
    for page in pages:
        body = client.get(page).get_data(as_text=True)
        assert "{{7*7}}" in body, page
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body, page
        assert app.config["SECRET_KEY"] not in body, page

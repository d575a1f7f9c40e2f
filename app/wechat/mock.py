"""A mock of the WeChat API that speaks the real endpoints' wire format.

The embedded default, the demo and the tests point ``WECHAT_API_BASE`` at it, so the whole
service runs offline. It is a plain Flask app: mounted in-process under
``WECHAT_MOCK_PREFIX`` (never in production), or standalone with
``flask wechat mock-server --port N``. What it received and the faults it should inject are
reachable over HTTP for checks outside the project:

- ``GET /_mock/requests?path=<api path>`` → ``{"items": [{"path", "query", "json", "at"}]}``,
  oldest first; ``DELETE /_mock/requests`` clears.
- ``POST /_mock/faults`` ``{"path", "errcode", "times"}`` or ``{"path", "delay_s", "times"}``:
  the next ``times`` calls to ``path`` fail that way; ``DELETE /_mock/faults`` clears.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Flask, g, jsonify, redirect, request

TOKEN_PREFIX = "mock_at_"  # noqa: S105 - not a secret, the shape of mock tokens
TOKEN_TTL = 7200
MAX_RECORDS = 5000
CLIENT_MSG_ID_WINDOW_S = 600

# The errmsg WeChat sends with each code we can inject (a " rid: …" suffix is appended).
ERROR_MESSAGES = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    46003: "menu no exist",
    47001: "data format error",
}

# msg_sec_check v2: words the mock treats as risky or for review, with WeChat's labels
# (20006 违法犯罪, 20002 色情, 20001 时政, 10001 广告).
RISKY_WORDS = {"赌博": 20006, "毒品": 20006, "枪支": 20006, "色情": 20002}
REVIEW_WORDS = {"加微信": 10001, "代开发票": 10001}


@dataclass
class Fault:
    path: str
    times: int
    errcode: int | None = None
    delay_s: float = 0.0

    def as_dict(self) -> dict:
        return {"path": self.path, "times": self.times, "errcode": self.errcode, "delay_s": self.delay_s}


class MockState:
    """What the mock received and the faults still to inject; safe to share across threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # deliver_once's make_msgid takes it again
        self.records: deque[dict] = deque(maxlen=MAX_RECORDS)
        self.faults: list[Fault] = []
        self.menu: dict | None = None
        self._counter = itertools.count(1)
        # Template messages already delivered, by (openid, client_msg_id): WeChat's 防重入.
        self.delivered_keys: dict[tuple[str, str], tuple[int, float]] = {}

    def deliver_once(self, openid: str, client_msg_id: str | None, make_msgid) -> tuple[int, bool]:
        """The msgid for a template send and whether it is a repeat WeChat drops (10-minute window)."""
        if not client_msg_id:
            return make_msgid(), False
        now = time.monotonic()
        # Check and record under one lock: two concurrent sends of one id must not both deliver.
        with self._lock:
            seen = self.delivered_keys.get((openid, client_msg_id))
            if seen is not None and now - seen[1] < CLIENT_MSG_ID_WINDOW_S:
                return seen[0], True
            msgid = make_msgid()
            self.delivered_keys[(openid, client_msg_id)] = (msgid, now)
        return msgid, False

    def next_number(self) -> int:
        with self._lock:
            return next(self._counter)

    def record(self, entry: dict) -> None:
        with self._lock:
            self.records.append(entry)

    def requests(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self.records if path is None or r["path"] == path]

    def clear_requests(self) -> None:
        with self._lock:
            self.records.clear()
            self.delivered_keys.clear()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, path: str) -> Fault | None:
        """The first pending fault for ``path``, used up by one call."""
        with self._lock:
            for fault in self.faults:
                if fault.path == path and fault.times > 0:
                    fault.times -= 1
                    taken = Fault(fault.path, 1, fault.errcode, fault.delay_s)
                    self.faults = [f for f in self.faults if f.times > 0]
                    return taken
            return None

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()


def error_body(errcode: int, errmsg: str | None = None) -> dict:
    """WeChat's error JSON, with the request id its messages carry."""
    message = errmsg or ERROR_MESSAGES.get(errcode, "mock fault")
    rid = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
    return {"errcode": errcode, "errmsg": f"{message} rid: {rid}"}


def openid_for(appid: str, code: str) -> str:
    """A stable openid per (app, code): 28 characters starting with "o", like WeChat's."""
    digest = hashlib.sha256(f"{appid}:{code}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def _normal_path(path: str) -> str:
    return "/" + path.strip().lstrip("/")


def create_mock_app() -> Flask:
    """The mock WeChat API as a WSGI app of its own."""
    app = Flask("wechat_mock")
    app.json.ensure_ascii = False
    state = MockState()
    app.extensions["wechat_mock_state"] = state

    def body_json() -> dict | None:
        raw = request.get_data(cache=True)
        if not raw:
            return None
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else {"_": value}

    @app.before_request
    def _record_and_inject():
        if request.path.startswith("/_mock/"):
            return None
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "json": body_json(),
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        g.mock_record = entry
        state.record(entry)
        fault = state.take_fault(request.path)
        if fault is None:
            return None
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.errcode is not None:
            return jsonify(error_body(fault.errcode))
        return None

    @app.after_request
    def _record_answer(response):
        # What the mock answered, so checks can tell a delivery from a refused or repeated call.
        entry = g.get("mock_record")
        if entry is not None and response.is_json:
            answer = response.get_json(silent=True) or {}
            entry["errcode"] = answer.get("errcode", 0)
            if answer.get("duplicate"):
                entry["duplicate"] = True
        return response

    @app.errorhandler(404)
    def _no_such_api(_exc):
        return jsonify(error_body(-1, f"mock has no API at {request.path}")), 404

    @app.errorhandler(405)
    def _wrong_method(_exc):
        return jsonify(error_body(-1, f"mock: {request.method} not allowed on {request.path}")), 405

    def need_token():
        token = request.args.get("access_token", "")
        if not token:
            return jsonify(error_body(41001))
        if not token.startswith(TOKEN_PREFIX):
            return jsonify(error_body(40001))
        return None

    # -- control endpoints -------------------------------------------------------------

    @app.get("/_mock/requests")
    def list_requests():
        path = request.args.get("path")
        return jsonify({"items": state.requests(_normal_path(path) if path else None)})

    @app.delete("/_mock/requests")
    def clear_requests():
        state.clear_requests()
        return jsonify({"ok": True})

    @app.get("/_mock/faults")
    def list_faults():
        return jsonify({"items": [f.as_dict() for f in state.faults]})

    @app.post("/_mock/faults")
    def add_fault():
        spec = request.get_json(silent=True)
        if not isinstance(spec, dict) or not spec.get("path"):
            return jsonify({"error": "need {path, errcode|delay_s, times}"}), 400
        try:
            times = int(spec.get("times", 1))
            errcode = int(spec["errcode"]) if spec.get("errcode") is not None else None
            delay_s = float(spec.get("delay_s") or 0)
        except (TypeError, ValueError):
            return jsonify({"error": "errcode and times must be integers, delay_s a number"}), 400
        if errcode is None and delay_s <= 0:
            return jsonify({"error": "need errcode or delay_s"}), 400
        if times < 1 or delay_s > 120:
            return jsonify({"error": "times must be ≥ 1 and delay_s ≤ 120"}), 400
        fault = Fault(_normal_path(spec["path"]), times, errcode, delay_s)
        state.add_fault(fault)
        return jsonify({"ok": True, "fault": fault.as_dict()}), 201

    @app.delete("/_mock/faults")
    def clear_faults():
        state.clear_faults()
        return jsonify({"ok": True})

    # -- the WeChat API ----------------------------------------------------------------

    @app.get("/cgi-bin/token")
    def token():
        args = request.args
        if args.get("grant_type") != "client_credential":
            return jsonify(error_body(40002, "invalid grant_type"))
        if not args.get("appid"):
            return jsonify(error_body(41002))
        if not args.get("secret"):
            return jsonify(error_body(41004))
        number = state.next_number()
        access_token = f"{TOKEN_PREFIX}{number}_{secrets.token_urlsafe(24)}"
        return jsonify({"access_token": access_token, "expires_in": TOKEN_TTL})

    def message_request():
        """A send's body and the error WeChat gives first: no token, no recipient, no template."""
        if (problem := need_token()) is not None:
            return None, problem
        data = body_json() or {}
        if not data.get("touser"):
            return data, jsonify(error_body(40003))
        if not data.get("template_id"):
            return data, jsonify(error_body(40037))
        return data, None

    @app.post("/cgi-bin/message/template/send")
    def template_send():
        data, problem = message_request()
        if problem is not None:
            return problem
        msgid, repeat = state.deliver_once(
            data["touser"], data.get("client_msg_id"), lambda: 2_000_000_000 + state.next_number()
        )
        answer = {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if repeat:
            answer["duplicate"] = True  # not WeChat's field: lets checks see the repeat was dropped
        return jsonify(answer)

    @app.post("/cgi-bin/message/subscribe/send")
    @app.post("/cgi-bin/message/subscribe/bizsend")
    def subscribe_send():
        _data, problem = message_request()
        if problem is not None:
            return problem
        return jsonify({"errcode": 0, "errmsg": "ok", "msgid": 3_000_000_000 + state.next_number()})

    @app.post("/cgi-bin/message/custom/send")
    def custom_send():
        if (problem := need_token()) is not None:
            return problem
        data = body_json() or {}
        if not data.get("touser"):
            return jsonify(error_body(40003))
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.post("/cgi-bin/qrcode/create")
    def qrcode_create():
        if (problem := need_token()) is not None:
            return problem
        data = body_json() or {}
        action = data.get("action_name")
        scene = (data.get("action_info") or {}).get("scene") or {}
        if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE") or not scene:
            return jsonify(error_body(40097))
        value = str(scene.get("scene_str") or scene.get("scene_id") or "")
        digest = hashlib.sha256(f"{action}:{value}".encode()).hexdigest()
        answer = {
            "ticket": "gQ" + base64.urlsafe_b64encode(bytes.fromhex(digest)).decode().rstrip("="),
            "url": f"http://weixin.qq.com/q/mock{digest[:20]}",
        }
        if action in ("QR_SCENE", "QR_STR_SCENE"):
            answer["expire_seconds"] = int(data.get("expire_seconds") or 60)
        return jsonify(answer)

    @app.post("/cgi-bin/menu/create")
    def menu_create():
        if (problem := need_token()) is not None:
            return problem
        data = body_json()
        if not data or not isinstance(data.get("button"), list) or not data["button"]:
            return jsonify(error_body(47001))
        if len(data["button"]) > 3 or any(len(b.get("sub_button") or []) > 5 for b in data["button"]):
            return jsonify(error_body(40016, "invalid button size"))
        state.menu = data
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.get("/cgi-bin/menu/get")
    def menu_get():
        if (problem := need_token()) is not None:
            return problem
        if state.menu is None:
            return jsonify(error_body(46003))
        return jsonify({"menu": state.menu})

    @app.get("/cgi-bin/menu/delete")
    def menu_delete():
        if (problem := need_token()) is not None:
            return problem
        state.menu = None
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @app.get("/connect/oauth2/authorize")
    def oauth_authorize():
        # What WeChat does after the user (silently, for snsapi_base) agrees: back with a code.
        redirect_uri = request.args.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "redirect_uri 参数错误", 400
        browser = request.cookies.get("mock_wx_user") or secrets.token_urlsafe(12)
        query = parts.query + ("&" if parts.query else "")
        query += urlencode({"code": f"mockcode-{browser}", "state": request.args.get("state", "")})
        response = redirect(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))
        response.set_cookie("mock_wx_user", browser, max_age=365 * 86400, httponly=True, samesite="Lax")
        return response

    @app.get("/sns/oauth2/access_token")
    def oauth_access_token():
        args = request.args
        if not args.get("appid"):
            return jsonify(error_body(41002))
        if not args.get("secret"):
            return jsonify(error_body(41004))
        if not args.get("code"):
            return jsonify(error_body(41008))
        return jsonify(
            {
                "access_token": f"mock_oauth_{secrets.token_urlsafe(16)}",
                "expires_in": TOKEN_TTL,
                "refresh_token": f"mock_refresh_{secrets.token_urlsafe(16)}",
                "openid": openid_for(args["appid"], args["code"]),
                "scope": "snsapi_base",
            }
        )

    @app.get("/sns/jscode2session")
    def jscode2session():
        args = request.args
        if not args.get("appid"):
            return jsonify(error_body(41002))
        if not args.get("secret"):
            return jsonify(error_body(41004))
        code = args.get("js_code", "")
        if not code:
            return jsonify(error_body(40029))
        session_key = base64.b64encode(hashlib.sha256(f"sk:{code}".encode()).digest()[:16]).decode()
        return jsonify({"openid": openid_for(args["appid"], code), "session_key": session_key})

    @app.post("/wxa/msg_sec_check")
    def msg_sec_check():
        if (problem := need_token()) is not None:
            return problem
        data = body_json() or {}
        content = data.get("content")
        # v2 only: v1 (content alone) is retired.
        if data.get("version") != 2 or not data.get("openid") or data.get("scene") not in (1, 2, 3, 4):
            return jsonify(error_body(40097))
        if not isinstance(content, str) or not content:
            return jsonify(error_body(44002))
        suggest, label, keyword = "pass", 100, ""
        for words, verdict in ((RISKY_WORDS, "risky"), (REVIEW_WORDS, "review")):
            hit = next((w for w in words if w in content), None)
            if hit:
                suggest, label, keyword = verdict, words[hit], hit
                break
        detail = {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}
        if keyword:
            detail.update({"keyword": keyword, "prob": 90})
        return jsonify(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": [detail],
                "trace_id": secrets.token_hex(12),
            }
        )

    return app


def mock_state(app: Flask) -> MockState:
    """The record and faults of a mock app made by ``create_mock_app``."""
    return app.extensions["wechat_mock_state"]

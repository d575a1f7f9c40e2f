"""The only door to WeChat's HTTP API: wechatpy's ``WeChatClient``, with its traps handled.

wechatpy 1.8.18 as shipped would, in this service: fetch tokens from the hard-coded real
host (and the ``wxa`` and OAuth calls too), wait forever on a slow answer, retry 40001
without end, keep the token's expiry per client instance, speak only the retired v1 of
``msg_sec_check``, and send mini-program templates to a retired endpoint. Here every call
goes to ``WECHAT_API_BASE`` with a timeout well under WeChat's 5 s, the access token lives
in Redis when ``REDIS_URL`` is set (one refresher at a time, under a Redis lock) and in
memory otherwise, and 40001/42001 trigger exactly one refresh and one retry.

Use ``official_account()`` for the 公众号 and ``mini_program()`` for the 小程序.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, current_app
from redis.exceptions import RedisError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from app.observability import count_wechat_error

log = logging.getLogger(__name__)

# (connect, read) seconds: callers often answer a WeChat push that must be done within 5 s.
DEFAULT_TIMEOUT = (1.5, 2.5)
TOKEN_ERRORS = (40001, 42001)
# Refresh a little before WeChat's expiry so no call carries a token about to die.
TOKEN_EARLY_S = 300
# A worker reuses the token it last read from the shared store for this long before reading
# it again: WeChat keeps a replaced token valid for 5 minutes, and a 40001/42001 still
# refreshes at once. Saves a Redis round trip on every call.
TOKEN_REUSE_S = 30
REAL_API_BASE = "https://api.weixin.qq.com"
REAL_OAUTH_BASE = "https://open.weixin.qq.com/connect/"


class WeChatApiError(Exception):
    """WeChat refused or did not answer a call; ``errcode`` is None for network failures."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        count_wechat_error(errcode)  # every failed call ends here: /metrics counts it by errcode

    @property
    def retryable(self) -> bool:
        """Worth trying again later: network trouble, system busy, daily quota."""
        return self.errcode in (None, -1, 45009)

    @property
    def user_refused(self) -> bool:
        """The resident has not subscribed (43004) or refused this kind of message (43101)."""
        return self.errcode in (43004, 43101)


@dataclass(frozen=True)
class TextCheck:
    """The verdict of ``msg_sec_check`` v2: ``suggest`` is pass, review or risky."""

    suggest: str
    label: int

    @property
    def passed(self) -> bool:
        return self.suggest == "pass"


class MemoryTokenStore:
    """Tokens of this process, with expiry (wechatpy's MemoryStorage ignores the TTL)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            value, expires = self._data.get(key, (default, None))
            if expires is not None and expires <= time.monotonic():
                self._data.pop(key, None)
                return default
            return value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl if ttl else None)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class RedisTokenStore:
    """Tokens shared by every worker on every host.

    While Redis is unreachable each process keeps using the token it last saw (or fetches
    its own): WeChat allows several valid tokens for a few minutes, and a push must not
    fail because the cache is down.
    """

    def __init__(self, redis, prefix: str = "wechat") -> None:
        self.redis = redis
        self.prefix = prefix
        self.local = MemoryTokenStore()

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self.redis.get(self._key(key))
        except RedisError as exc:
            log.warning("token store: Redis unavailable (%s), using this process's copy", exc)
            return self.local.get(key, default)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self.local.set(key, value, ttl)
        try:
            self.redis.set(self._key(key), json.dumps(value), ex=ttl)
        except RedisError as exc:
            log.warning("token store: Redis unavailable (%s), token kept in this process", exc)

    def delete(self, key: str) -> None:
        self.local.delete(key)
        try:
            self.redis.delete(self._key(key))
        except RedisError as exc:
            log.warning("token store: Redis unavailable (%s)", exc)


_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(name: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(name, threading.Lock())


class _Client(WeChatClient):
    """wechatpy's client pointed at ``api_base``, with a shared token and a bounded retry."""

    def __init__(self, appid, secret, *, api_base, store, redis, http, timeout):
        super().__init__(appid, secret, session=store, timeout=timeout, auto_retry=False)
        self._http = http
        self._redis = redis
        self._seen: tuple[str | None, float] = (None, 0.0)  # (token, reuse until)
        self.api_base = api_base
        # Instance attributes win over wechatpy's class-level real hosts.
        self.API_BASE_URL = f"{api_base}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{api_base}/"

    @contextmanager
    def _refresh_lock(self):
        name = f"wechat:token-lock:{self.appid}"
        if self._redis is None:
            with _process_lock(name):
                yield
            return
        lock = self._redis.lock(name, timeout=10, blocking_timeout=self._read_timeout() + 2)
        try:
            acquired = lock.acquire()
        except RedisError as exc:  # Redis down: one refresher per process is still correct
            log.warning("token lock: Redis unavailable (%s), locking within this process", exc)
            with _process_lock(name):
                yield
            return
        if not acquired:
            raise WeChatApiError(-1, "另一个进程正在刷新 access_token，等待超时")
        try:
            yield
        finally:
            try:
                lock.release()
            except Exception:  # expired while we worked: the token is stored anyway
                log.warning("token lock for %s expired before release", self.appid)

    def _read_timeout(self) -> float:
        return self.timeout[1] if isinstance(self.timeout, tuple) else float(self.timeout)

    @property
    def access_token(self) -> str:
        token, reuse_until = self._seen
        if token and time.monotonic() < reuse_until:
            return token
        token = self.session.get(self.access_token_key) or self.refresh_access_token(stale=None)
        self._seen = (token, time.monotonic() + TOKEN_REUSE_S)
        return token

    def refresh_access_token(self, stale: str | None) -> str:
        """A fresh token; only one process fetches it, the others take what it stored."""
        self._seen = (None, 0.0)
        with self._refresh_lock():
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            log.info("fetching access token for %s", self.appid)
            try:
                res = self._http.get(
                    f"{self.api_base}/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                    timeout=self.timeout,
                )
                res.raise_for_status()
                result = res.json()
            except (requests.RequestException, ValueError) as exc:
                raise WeChatApiError(None, f"获取 access_token 失败：{exc}") from exc
            if result.get("errcode") or "access_token" not in result:
                raise WeChatApiError(result.get("errcode", -1), result.get("errmsg", "no access_token"))
            ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_EARLY_S)
            self.session.set(self.access_token_key, result["access_token"], ttl)
            return result["access_token"]

    def fetch_access_token(self):
        return self.refresh_access_token(stale=self.session.get(self.access_token_key))

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        params = dict(kwargs.pop("params", None) or {})
        params.setdefault("access_token", self.access_token)
        try:
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeChat said %s for %s: refreshing the token once", exc.errcode, url_or_endpoint)
            params["access_token"] = self.refresh_access_token(stale=params["access_token"])
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)


class WeChatApi:
    """One WeChat app (公众号 or 小程序) and the calls this service makes to it."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        api_base: str,
        http: requests.Session,
        redis=None,
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        oauth_base: str | None = None,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.api_base = api_base.rstrip("/")
        self.http = http
        self.timeout = timeout
        self.oauth_base = oauth_base or (
            REAL_OAUTH_BASE if self.api_base == REAL_API_BASE else f"{self.api_base}/connect/"
        )
        store = RedisTokenStore(redis) if redis is not None else MemoryTokenStore()
        self.client = _Client(
            appid, secret, api_base=self.api_base, store=store, redis=redis, http=http, timeout=timeout
        )

    # -- plumbing ----------------------------------------------------------------------

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except WeChatClientException as exc:
            raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc
        except requests.RequestException as exc:
            raise WeChatApiError(None, f"微信接口无响应：{exc}") from exc

    def _get_without_token(self, path: str, params: dict) -> dict:
        """Calls authenticated by appid/secret, not by access token (OAuth, jscode2session)."""
        try:
            res = self.http.get(f"{self.api_base}/{path}", params=params, timeout=self.timeout)
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatApiError(None, f"微信接口无响应：{exc}") from exc
        if result.get("errcode"):
            raise WeChatApiError(result["errcode"], result.get("errmsg", ""))
        return result

    @property
    def access_token(self) -> str:
        """The current access token (fetched or refreshed as needed)."""
        return self._call(lambda: self.client.access_token)

    # -- official account --------------------------------------------------------------

    def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict,
        *,
        url: str | None = None,
        miniprogram: dict | None = None,
        client_msg_id: str | None = None,
    ) -> int:
        """Send a 公众号 template message; returns WeChat's msgid (TEMPLATESENDJOBFINISH reports on it).

        ``client_msg_id`` is WeChat's 防重入 key: a repeat with the same openid and key within
        10 minutes is not delivered again, so a send whose answer was lost can be retried.
        """
        if client_msg_id is None:
            result = self._call(
                self.client.message.send_template,
                openid,
                template_id,
                data,
                url=url,
                mini_program=miniprogram,
            )
        else:
            # wechatpy's send_template has no client_msg_id: post the documented JSON ourselves.
            body = {
                "touser": openid,
                "template_id": template_id,
                "data": data,
                "client_msg_id": client_msg_id,
            }
            if url:
                body["url"] = url
            if miniprogram:
                body["miniprogram"] = miniprogram
            result = self._call(self.client.post, "message/template/send", data=body)
        return int(result["msgid"])

    def send_subscribe_message(self, openid: str, template_id: str, data: dict, *, page: str | None = None):
        """Send a 小程序 subscribe message (``cgi-bin/message/subscribe/send``)."""
        return self._call(self.client.wxa.send_subscribe_message, openid, template_id, data, page=page)

    def create_station_qrcode(self, scene: str) -> dict:
        """A permanent parametric QR (QR_LIMIT_STR_SCENE): ``{"ticket", "url"}``."""
        return self._call(
            self.client.qrcode.create,
            {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}},
        )

    def create_temporary_qrcode(self, scene: str, expire_seconds: int) -> dict:
        """A temporary parametric QR (QR_STR_SCENE, ≤ 30 days): ``{"ticket", "url", "expire_seconds"}``."""
        return self._call(
            self.client.qrcode.create,
            {
                "expire_seconds": max(60, min(int(expire_seconds), 2_592_000)),
                "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}},
            },
        )

    def create_menu(self, menu: dict) -> None:
        """Replace the official account's custom menu."""
        self._call(self.client.menu.create, menu)

    def get_menu(self) -> dict:
        """The menu WeChat has now."""
        return self._call(self.client.menu.get)

    # -- mini-program ------------------------------------------------------------------

    def code_to_session(self, js_code: str) -> dict:
        """``jscode2session``: ``{"openid", "session_key", ...}``; the session key stays server-side."""
        return self._get_without_token(
            "sns/jscode2session",
            {
                "appid": self.appid,
                "secret": self.secret,
                "js_code": js_code,
                "grant_type": "authorization_code",
            },
        )

    def check_text(
        self, content: str, openid: str, scene: int = 2, *, timeout: tuple[float, float] | None = None
    ) -> TextCheck:
        """``msg_sec_check`` v2 (scene 1 资料, 2 评论, 3 论坛, 4 社交日志) for a text a user wrote."""
        result = self._call(
            self.client.post,
            "wxa/msg_sec_check",
            data={"content": content, "version": 2, "openid": openid, "scene": scene},
            api_base_url=f"{self.api_base}/",
            timeout=timeout or self.timeout,
        )
        verdict = result.get("result") or {}
        return TextCheck(suggest=verdict.get("suggest", "pass"), label=int(verdict.get("label", 100)))

    # -- OAuth (snsapi_base) -----------------------------------------------------------

    def _oauth(self, redirect_uri: str = "", state: str = "") -> _OAuth:
        return _OAuth(
            self.appid,
            self.secret,
            redirect_uri,
            state=state,
            api_base=self.api_base,
            oauth_base=self.oauth_base,
            http=self.http,
            timeout=self.timeout,
        )

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send a browser inside WeChat to learn its openid silently (snsapi_base)."""
        return self._oauth(redirect_uri, state).authorize_url

    def oauth_openid(self, code: str) -> str:
        """Exchange a web OAuth ``code`` for the user's openid."""
        try:
            result = self._oauth().fetch_access_token(code)
        except WeChatOAuthException as exc:
            raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc
        except (requests.RequestException, KeyError, ValueError) as exc:
            raise WeChatApiError(None, f"网页授权失败：{exc}") from exc
        return result["openid"]


class _OAuth(WeChatOAuth):
    """wechatpy's web OAuth, sent to ``WECHAT_API_BASE`` with a timeout."""

    def __init__(self, appid, secret, redirect_uri, *, state, api_base, oauth_base, http, timeout):
        super().__init__(appid, secret, redirect_uri, scope="snsapi_base", state=state)
        self.API_BASE_URL = f"{api_base}/"
        self.OAUTH_BASE_URL = oauth_base
        self._http = http
        self._timeout = timeout

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        return super()._request(method, url_or_endpoint, **kwargs)


def _http_session(app: Flask) -> requests.Session:
    session = requests.Session()
    # requests reads the proxy and CA settings from the environment on every call (walking
    # all of os.environ, a large share of a msg_sec_check's CPU); read them once instead.
    # Every call goes to WECHAT_API_BASE, so its proxy (or NO_PROXY) is the only one needed.
    session.proxies = requests.utils.get_environ_proxies(app.config["WECHAT_API_BASE"])
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    mock = app.extensions.get("wechat_mock_app")
    if mock is not None:
        from app.wechat.transport import WSGIAdapter

        prefix = app.config["PUBLIC_BASE_URL"] + app.config["WECHAT_MOCK_PREFIX"]
        session.mount(prefix + "/", WSGIAdapter(mock, prefix))
    return session


def _build(app: Flask, kind: str) -> WeChatApi:
    if kind == "official_account":
        appid, secret = app.config["WECHAT_APPID"], app.config["WECHAT_SECRET"]
    else:
        appid, secret = app.config["MINIAPP_APPID"], app.config["MINIAPP_SECRET"]
    timeout = app.config.get("WECHAT_HTTP_TIMEOUT", DEFAULT_TIMEOUT)
    return WeChatApi(
        appid,
        secret,
        api_base=app.config["WECHAT_API_BASE"],
        http=_http_session(app),
        redis=app.extensions.get("redis"),
        timeout=tuple(timeout) if isinstance(timeout, list) else timeout,
        oauth_base=app.config.get("WECHAT_OAUTH_BASE"),
    )


def _get(kind: str) -> WeChatApi:
    app = current_app._get_current_object()
    clients = app.extensions.setdefault("wechat_clients", {})
    if kind not in clients:
        clients[kind] = _build(app, kind)
    return clients[kind]


def official_account() -> WeChatApi:
    """The 公众号 (``WECHAT_APPID``) of the current app."""
    return _get("official_account")


def mini_program() -> WeChatApi:
    """The 小程序 (``MINIAPP_APPID``) of the current app."""
    return _get("mini_program")

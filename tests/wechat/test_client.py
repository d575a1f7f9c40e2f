"""The WeChat API client against the mock: base URL, token caching, one refresh and retry, timeouts."""

import threading
import time
import uuid

import pytest
import requests

from app.wechat.client import MemoryTokenStore, WeChatApi, WeChatApiError
from app.wechat.mock import create_mock_app, mock_state
from app.wechat.transport import WSGIAdapter

BASE = "http://mock.wechat.test/api"


@pytest.fixture
def mock():
    return create_mock_app()


@pytest.fixture
def state(mock):
    return mock_state(mock)


def _session(mock) -> requests.Session:
    session = requests.Session()
    session.mount(BASE + "/", WSGIAdapter(mock, BASE))
    # Nothing may leave for the real WeChat hosts.
    session.mount("https://api.weixin.qq.com", _Refuse())
    session.mount("https://open.weixin.qq.com", _Refuse())
    return session


class _Refuse(requests.adapters.BaseAdapter):
    def send(self, request, **kwargs):
        raise AssertionError(f"call escaped to the real WeChat: {request.url}")

    def close(self):
        pass


def make_api(mock, *, redis=None, appid=None, timeout=(1.0, 1.0)) -> WeChatApi:
    return WeChatApi(
        appid or f"wx{uuid.uuid4().hex[:16]}",
        "secret",
        api_base=BASE,
        http=_session(mock),
        redis=redis,
        timeout=timeout,
    )


def _paths(state, path):
    return [r for r in state.requests() if r["path"] == path]


def test_token_is_fetched_once_and_cached(mock, state):
    api = make_api(mock)
    api.send_template("oA", "tpl", {"k": {"value": "v"}})
    api.create_menu({"button": [{"type": "click", "name": "接待预告", "key": "DUTY"}]})
    assert len(_paths(state, "/cgi-bin/token")) == 1
    sent = _paths(state, "/cgi-bin/message/template/send")[0]
    assert sent["query"]["access_token"] == api.access_token
    assert sent["json"]["touser"] == "oA" and sent["json"]["template_id"] == "tpl"


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_invalid_or_expired_token_triggers_one_refresh_and_one_retry(mock, state, errcode):
    api = make_api(mock)
    old = api.access_token
    state.add_fault(_fault("/cgi-bin/message/template/send", errcode, 1))
    msgid = api.send_template("oA", "tpl", {})
    assert msgid > 0
    calls = _paths(state, "/cgi-bin/message/template/send")
    assert len(calls) == 2
    assert calls[0]["query"]["access_token"] == old
    assert calls[1]["query"]["access_token"] == api.access_token != old
    assert len(_paths(state, "/cgi-bin/token")) == 2


def test_retry_happens_once_only(mock, state):
    api = make_api(mock)
    state.add_fault(_fault("/cgi-bin/message/template/send", 40001, 5))
    with pytest.raises(WeChatApiError) as caught:
        api.send_template("oA", "tpl", {})
    assert caught.value.errcode == 40001
    assert len(_paths(state, "/cgi-bin/message/template/send")) == 2


@pytest.mark.parametrize(
    ("errcode", "retryable", "refused"),
    [(43004, False, True), (43101, False, True), (45009, True, False), (-1, True, False)],
)
def test_other_errors_surface_with_their_code_and_no_retry(mock, state, errcode, retryable, refused):
    api = make_api(mock)
    state.add_fault(_fault("/cgi-bin/message/template/send", errcode, 1))
    with pytest.raises(WeChatApiError) as caught:
        api.send_template("oA", "tpl", {})
    assert caught.value.errcode == errcode
    assert caught.value.retryable is retryable and caught.value.user_refused is refused
    assert len(_paths(state, "/cgi-bin/message/template/send")) == 1


def test_a_slow_wechat_times_out_well_under_five_seconds(mock, state):
    api = make_api(mock, timeout=(0.5, 0.5))
    api.access_token  # noqa: B018 - warm the token
    state.add_fault(_fault("/cgi-bin/qrcode/create", None, 1, delay_s=4))
    started = time.monotonic()
    with pytest.raises(WeChatApiError) as caught:
        api.create_station_qrcode("abcdef")
    assert caught.value.errcode is None and caught.value.retryable
    assert time.monotonic() - started < 2.5  # 0.5 s timeout vs 4 s delay; room for a busy CI


def test_default_timeout_is_under_five_seconds(app):
    from app.wechat.client import DEFAULT_TIMEOUT, official_account

    with app.app_context():
        timeout = official_account().client.timeout
    assert timeout == DEFAULT_TIMEOUT and sum(timeout) < 5


def test_token_fetch_failure_is_a_clear_error(mock, state):
    api = make_api(mock)
    state.add_fault(_fault("/cgi-bin/token", -1, 1))
    with pytest.raises(WeChatApiError) as caught:
        api.create_menu({"button": [{"type": "click", "name": "a", "key": "b"}]})
    assert caught.value.errcode == -1


def test_concurrent_first_calls_fetch_one_token_in_memory(mock, state):
    api = make_api(mock)
    barrier = threading.Barrier(8)
    tokens = []

    def call():
        barrier.wait()
        tokens.append(api.access_token)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert len(_paths(state, "/cgi-bin/token")) == 1


def test_workers_share_the_token_through_redis_with_one_refresher(mock, state, redis_url):
    import redis as redis_lib

    redis = redis_lib.Redis.from_url(redis_url)
    appid = f"wx{uuid.uuid4().hex[:16]}"
    workers = [make_api(mock, redis=redis, appid=appid) for _ in range(6)]  # six "processes"
    barrier = threading.Barrier(len(workers))
    tokens = []

    def call(api):
        barrier.wait()
        tokens.append(api.access_token)

    threads = [threading.Thread(target=call, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert len(_paths(state, "/cgi-bin/token")) == 1
    # One worker learns the token died: it refreshes, and the others pick up the new one.
    state.add_fault(_fault("/cgi-bin/menu/get", 42001, 1))
    state.menu = {"button": []}
    workers[0].get_menu()
    assert workers[0].access_token != tokens[0]
    # The others keep using the token they read for TOKEN_REUSE_S (WeChat honours a replaced
    # token for 5 minutes; a 40001 would refresh at once), then read the new one from Redis.
    assert workers[3].access_token == tokens[0]
    workers[3].client._seen = (tokens[0], time.monotonic() - 1)  # its reuse window is over
    assert workers[3].access_token == workers[0].access_token
    assert len(_paths(state, "/cgi-bin/token")) == 2
    assert redis.ttl(f"wechat:{appid}_access_token") > 6000


def test_memory_store_expires():
    store = MemoryTokenStore()
    store.set("k", "v", ttl=1)
    assert store.get("k") == "v"
    store._data["k"] = ("v", time.monotonic() - 1)
    assert store.get("k") is None


def test_msg_sec_check_speaks_v2(mock, state):
    api = make_api(mock)
    verdict = api.check_text("小区门口有人聚众赌博", "oResident", scene=2)
    assert verdict.suggest == "risky" and verdict.label == 20006 and not verdict.passed
    assert api.check_text("小区路灯坏了", "oResident").passed
    sent = _paths(state, "/wxa/msg_sec_check")[0]["json"]
    assert sent == {"content": "小区门口有人聚众赌博", "version": 2, "openid": "oResident", "scene": 2}


def test_jscode2session_and_oauth_route_through_the_base(mock, state):
    api = make_api(mock)
    session = api.code_to_session("code-1")
    assert session["openid"] == api.code_to_session("code-1")["openid"]
    assert session["openid"] != api.code_to_session("code-2")["openid"]
    assert api.oauth_openid("web-code")
    assert api.oauth_authorize_url("http://jzd.test/s/abc", "st").startswith(
        BASE + "/connect/oauth2/authorize?appid="
    )
    assert not _paths(state, "/cgi-bin/token")  # neither needs an access token


def test_station_qrcode_is_permanent_string_scene(mock, state):
    api = make_api(mock)
    answer = api.create_station_qrcode("abcdef")
    assert answer["ticket"] and answer["url"].startswith("http://weixin.qq.com/q/")
    assert _paths(state, "/cgi-bin/qrcode/create")[0]["json"] == {
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": "abcdef"}},
    }


def test_subscribe_message_uses_the_current_endpoint(mock, state):
    api = make_api(mock)
    api.send_subscribe_message("oA", "tpl", {"thing1": {"value": "接待提醒"}}, page="pages/index")
    assert _paths(state, "/cgi-bin/message/subscribe/send")
    assert not [r for r in state.requests() if "wxopen" in r["path"] or "template/send" in r["path"]]


def test_the_app_client_talks_to_the_in_process_mock(app, mock_api):
    from app.wechat.client import official_account

    with app.app_context():
        official_account().create_station_qrcode("abcdef")
    assert [r["path"] for r in mock_api.requests("/cgi-bin/qrcode/create")] == ["/cgi-bin/qrcode/create"]


def _fault(path, errcode, times, delay_s=0.0):
    from app.wechat.mock import Fault

    return Fault(path, times, errcode, delay_s)

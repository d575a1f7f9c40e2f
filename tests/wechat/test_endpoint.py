"""``/wechat`` behaves as WeChat's servers expect, for every documented message and event type."""

import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.wechat.models import InboundMessage, Subscriber
from tests.wechat.sender import documented, fixture_text, sign

# Each documented sample and whether the account answers it with a text (else "success").
DOCUMENTED = [
    ("text", True),
    ("image", True),
    ("voice", True),
    ("video", True),
    ("shortvideo", True),
    ("location", True),
    ("link", True),
    ("event_subscribe", True),
    ("event_subscribe_qrscene", True),
    ("event_scan", True),
    ("event_unsubscribe", False),
    ("event_location", True),
    ("event_click", True),
    ("event_view", False),
    ("event_location_select", False),
    ("event_templatesendjobfinish", False),
    ("event_masssendjobfinish", False),  # no handler: answered "success"
]


def _inbound_count() -> int:
    return db.session.scalar(select(func.count()).select_from(InboundMessage))


def test_echostr_is_returned_when_signed(client, app):
    query = {"timestamp": "1409304348", "nonce": "123", "echostr": "5837397520665772155"}
    query["signature"] = sign(app.config["WECHAT_TOKEN"], query["timestamp"], query["nonce"])
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "5837397520665772155"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "x"},
        {"timestamp": "1", "nonce": "2", "echostr": "x"},
    ],
)
def test_bad_or_missing_signature_is_403_and_nothing_is_processed(client, method, query):
    before = _inbound_count()
    response = getattr(client, method)("/wechat", query_string=query, data=documented("text").encode())
    assert response.status_code == 403
    assert "x" not in response.get_data(as_text=True)
    assert _inbound_count() == before


@pytest.mark.parametrize(("name", "answers"), DOCUMENTED)
def test_documented_pushes_in_plain_mode(wx, name, answers):
    answer = wx.post(documented(name))
    assert answer.status == 200
    if answers:
        assert answer.content, answer.body
        assert answer.fields["MsgType"] == "text"
        assert answer.fields["ToUserName"]  # addressed back to the sender
    else:
        assert answer.is_success


@pytest.mark.parametrize(("name", "answers"), DOCUMENTED)
def test_documented_pushes_in_aes_mode(wx_aes, name, answers):
    answer = wx_aes.post(documented(name), aes=True)
    assert answer.status == 200
    if answers:
        assert "<Encrypt>" in answer.body and "<Content>" not in answer.body
        assert answer.content  # decrypted with the key and signature verified by the sender
    else:
        assert answer.body == "success"


def test_aes_push_with_wrong_msg_signature_is_403(wx_aes):
    before = _inbound_count()
    answer = wx_aes.post(
        documented("text", Content="留言 测试一下安全模式"), aes=True, args={"msg_signature": "0" * 40}
    )
    assert answer.status == 403
    assert _inbound_count() == before


def test_published_vector_credentials_work_end_to_end(app, client, monkeypatch):
    from tests.wechat.sender import WeChatSender
    from tests.wechat.test_protocol import VECTOR_APPID, VECTOR_KEY, VECTOR_TOKEN

    for key, value in (
        ("WECHAT_TOKEN", VECTOR_TOKEN),
        ("WECHAT_AES_KEY", VECTOR_KEY),
        ("WECHAT_APPID", VECTOR_APPID),
    ):
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("wechat_crypto", None)
    try:
        sender = WeChatSender(client, VECTOR_TOKEN, VECTOR_APPID, VECTOR_KEY)
        answer = sender.post(documented("text", Content="我是中文abcd123"), aes=True)
        assert answer.status == 200 and "值班" in answer.content
    finally:
        app.extensions.pop("wechat_crypto", None)


def test_plain_push_is_answered_in_plain_even_when_a_key_is_configured(wx_aes):
    answer = wx_aes.post(documented("text", Content="帮助"))
    assert "<Content>" in answer.body and "留言" in answer.content


@pytest.mark.parametrize("name", ["xxe_file.xml", "billion_laughs.xml"])
def test_xxe_and_billion_laughs_get_400_quickly(wx, name):
    started = time.monotonic()
    answer = wx.post(fixture_text(name))
    assert answer.status == 400
    assert "root:" not in answer.body
    assert time.monotonic() - started < 2.0  # expanding it would take far longer


def test_oversized_body_is_refused(wx):
    xml = documented("text", Content="留言 " + "很" * 30000)
    answer = wx.post(xml)
    assert answer.status == 413


@pytest.mark.parametrize("body", ["", "hello", "<xml><MsgType>text</MsgType></xml>", "<notxml/>"])
def test_malformed_bodies_get_400(wx, body):
    assert wx.post(body).status == 400


def test_unknown_message_type_is_success(wx):
    xml = documented("text", MsgType="brand_new_type")
    assert wx.post(xml).is_success


def test_every_push_is_logged_once_with_what_was_done(wx, openid):
    wx.text(openid, "帮助")
    wx.post(documented("event_view", FromUserName=openid))
    rows = db.session.scalars(select(InboundMessage).where(InboundMessage.openid == openid)).all()
    assert sorted((r.msg_type, r.event, r.action) for r in rows) == [
        ("event", "view", "menu_view"),
        ("text", "", "help"),
    ]
    text_row = next(r for r in rows if r.msg_type == "text")
    assert text_row.summary == "帮助" and text_row.received_at is not None and text_row.sent_at is not None


def test_repeated_delivery_gets_the_same_reply_and_is_counted(wx, openid):
    xml = documented("text", FromUserName=openid, Content="帮助")
    first, again = wx.post(xml), wx.post(xml)
    assert first.content == again.content
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.deliveries == 2


def test_a_late_retry_of_a_scan_does_not_undo_an_unsubscribe(wx, openid, region_tree, make_station):
    """WeChat retries a scan it got no answer to; if the follower unsubscribed meanwhile, the
    retry is a repeat: answered as the first, and rolled back with what its handler did."""
    station = make_station(region_tree()["village_a"], name="健康里社区联络站")
    wx.subscribe(openid)
    scan = documented("event_scan", FromUserName=openid, EventKey=station.code)
    first = wx.post(scan)
    wx.post(documented("event_unsubscribe", FromUserName=openid))
    again = wx.post(scan)
    assert again.content == first.content and "健康里社区联络站" in first.content
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.openid == openid))
    db.session.refresh(subscriber)
    assert subscriber.subscribed is False and subscriber.unsubscribed_at is not None


def test_handler_crash_is_answered_politely_and_logged(wx, openid, monkeypatch):
    import handlers.text

    def boom(_inbound):
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers.registry, "_handlers", {**handlers.registry._handlers, "text": boom})
    answer = wx.text(openid, "帮助")
    assert answer.status == 200 and "稍后再试" in answer.content
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.status == "failed" and row.ref == "RuntimeError"


def test_a_push_whose_connection_the_database_dropped_is_handled_once_more(wx, openid, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import handlers.registry

    calls = []
    text_handler = handlers.registry._handlers["text"]

    def dropped_once(inbound):
        calls.append(inbound.dedup_key)
        if len(calls) == 1:
            raise OperationalError(
                "SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True
            )
        return text_handler(inbound)

    monkeypatch.setattr(handlers.registry, "_handlers", {**handlers.registry._handlers, "text": dropped_once})
    answer = wx.text(openid, "帮助")
    assert answer.status == 200 and "留言" in answer.content and "稍后再试" not in answer.content
    assert len(calls) == 2
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.action == "help" and row.status == "done"


def test_a_database_error_that_is_not_a_dropped_connection_is_not_retried(wx, openid, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import handlers.registry

    calls = []

    def broken(inbound):
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("deadlock detected"))

    monkeypatch.setattr(handlers.registry, "_handlers", {**handlers.registry._handlers, "text": broken})
    answer = wx.text(openid, "帮助")
    assert "稍后再试" in answer.content and calls == [1]
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.openid == openid))
    assert row.status == "failed" and row.ref == "OperationalError"


# --- the endpoint as its own WSGI application (app/wechat/endpoint.py) ---------------------


def _signed(app) -> dict:
    from app.wechat.protocol import sign_args

    return sign_args(app.config["WECHAT_TOKEN"])


def test_other_methods_are_405_and_head_answers_like_get(client, app):
    response = client.put("/wechat", query_string=_signed(app), data=documented("text").encode())
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, POST"
    head = client.head("/wechat", query_string={**_signed(app), "echostr": "12345"})
    assert head.status_code == 200 and head.data == b""
    assert client.get("/wechat", query_string=_signed(app)).status_code == 400  # no echostr


def test_request_id_headers_and_logs_on_wechat_pushes(wx, caplog):
    """The endpoint skips Flask's page pipeline but not what operations rely on."""
    import logging

    caplog.set_level(logging.INFO, logger="app")
    answer = wx.client.post(
        "/wechat",
        query_string=wx.signed_args(),
        data=b"<xml><MsgType>text</MsgType></xml>",
        headers={"X-Request-ID": "req-wechat-0000001"},
    )
    assert answer.status_code == 400
    assert answer.headers["X-Request-ID"] == "req-wechat-0000001"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    refused = [r for r in caplog.records if "refused a body" in r.getMessage()]
    assert refused and refused[0].request_id == "req-wechat-0000001"


def test_wechat_pushes_are_counted_in_the_request_metrics(wx):
    from app.observability import HTTP_REQUESTS

    counter = HTTP_REQUESTS.labels("POST", "/wechat", "200")
    before = counter._value.get()
    wx.text("oMetrics", "帮助")
    assert counter._value.get() == before + 1


def test_an_unexpected_error_outside_the_handlers_is_a_500_not_a_crash(client, app, monkeypatch):
    import app.wechat.endpoint as endpoint

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(endpoint, "verify_request", broken)
    response = client.post("/wechat", query_string=_signed(app), data=documented("text").encode())
    assert response.status_code == 500 and response.headers["X-Request-ID"]


def test_wechat_answers_carry_hsts_when_the_app_does(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "HSTS_ENABLED", True)
    response = client.get("/wechat", query_string={**_signed(app), "echostr": "1"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert (
        response.headers["Content-Security-Policy"]
        == client.get("/healthz").headers["Content-Security-Policy"]
    )

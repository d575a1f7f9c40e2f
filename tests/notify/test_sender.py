"""The outbox sender against the in-process WeChat mock: every WeChat answer has its outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models_base import utcnow
from app.notify import messages
from app.notify.consents import record_consents, remaining_consents
from app.notify.models import OutboxMessage, SubscribeConsent
from app.notify.sender import client_msg_id, drain
from app.notify.service import queue_message
from app.wechat.mock import Fault
from app.wechat.models import Subscriber
from tests.notify.conftest import sends

TEMPLATE_PATH = "/cgi-bin/message/template/send"
SUBSCRIBE_PATH = "/cgi-bin/message/subscribe/send"


def _message(**fields) -> messages.Message:
    data = fields or {"thing1": "测试内容", "time2": "2026-12-15 09:00"}
    return messages.Message(kind="test", template_key="deputy_reminder", data=data, url="http://jzd.test/x")


def _queue(channel: str = "template", openid: str | None = None, **fields) -> OutboxMessage:
    openid = openid or "o" + uuid.uuid4().hex[:27]
    row = queue_message(openid, channel, _message(**fields), f"test:{uuid.uuid4().hex}")
    db.session.commit()
    return row


def _aware(moment):
    # SQLite hands timestamps back without their (UTC) zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _later(seconds: int = 4000):
    return utcnow() + timedelta(seconds=seconds)


def test_template_row_is_sent_once_with_msgid_and_client_msg_id(app, mock_api):
    row = _queue()
    report = drain()
    assert report.sent == 1
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    call = sends(mock_api)[0]
    assert call["json"]["touser"] == row.openid
    assert call["json"]["template_id"] == app.config["WECHAT_TEMPLATES"]["deputy_reminder"]
    assert call["json"]["data"]["thing1"] == {"value": "测试内容"}
    assert call["json"]["url"] == "http://jzd.test/x"
    assert call["json"]["client_msg_id"] == client_msg_id(row.dedup_key)
    assert row.msgid and int(row.msgid) > 0
    # A second drain finds nothing due: never sent twice.
    assert drain().sent == 0
    assert len(sends(mock_api)) == 1


def test_token_errors_are_handled_inside_the_client(mock_api):
    row = _queue()
    mock_api.add_fault(Fault(TEMPLATE_PATH, 1, 40001))
    assert drain().sent == 1
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 1


@pytest.mark.parametrize("errcode", [43004, 43101])
def test_not_following_or_refused_is_undeliverable_without_retry(mock_api, errcode):
    row = _queue()
    mock_api.add_fault(Fault(TEMPLATE_PATH, 1, errcode))
    report = drain()
    assert report.undeliverable == 1
    db.session.refresh(row)
    assert row.status == "undeliverable" and row.next_attempt_at is None
    assert str(errcode) in row.last_error
    assert drain(now=_later()).handled == 0


@pytest.mark.parametrize("errcode", [45009, -1])
def test_busy_or_quota_backs_off_then_succeeds(mock_api, errcode):
    row = _queue()
    mock_api.add_fault(Fault(TEMPLATE_PATH, 2, errcode))
    before = utcnow()
    assert drain(now=before).retrying == 1
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 1
    first_wait = _aware(row.next_attempt_at) - before
    assert timedelta(seconds=29) < first_wait <= timedelta(seconds=31)
    # Not due yet: a drain right away leaves it alone.
    assert drain(now=before + timedelta(seconds=5)).handled == 0
    second = before + timedelta(seconds=31)
    assert drain(now=second).retrying == 1
    db.session.refresh(row)
    assert _aware(row.next_attempt_at) - second > first_wait  # exponential
    assert drain(now=_later()).sent == 1
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 3 and row.last_error == ""
    assert len(sends(mock_api)) == 1


def test_network_timeout_backs_off_and_the_retry_is_not_a_second_delivery(app, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_HTTP_TIMEOUT", (0.5, 0.3))
    app.extensions.pop("wechat_clients", None)
    try:
        row = _queue()
        mock_api.add_fault(Fault(TEMPLATE_PATH, 1, None, 0.6))
        assert drain().retrying == 1
        db.session.refresh(row)
        assert row.status == "pending" and "无响应" in row.last_error
        # WeChat did get the first call; the retry carries the same client_msg_id and is dropped.
        import time

        time.sleep(0.4)
        db.session.refresh(row)
        assert row.first_ambiguous_at is not None
        # The retry is due after the back-off, well inside WeChat's 10-minute window.
        assert drain(now=utcnow() + timedelta(seconds=31)).sent == 1
        calls = mock_api.requests(TEMPLATE_PATH)
        assert len(calls) == 2 and calls[1].get("duplicate")
        assert len(sends(mock_api)) == 1
    finally:
        app.extensions.pop("wechat_clients", None)


def test_unknown_errors_retry_up_to_the_limit_then_dead(app, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    row = _queue()
    mock_api.add_fault(Fault(TEMPLATE_PATH, 10, 40037))
    moment = utcnow()
    for _ in range(2):
        assert drain(now=moment).retrying == 1
        moment += timedelta(hours=2)
    assert drain(now=moment).dead == 1
    db.session.refresh(row)
    assert row.status == "dead" and row.attempts == 3 and "40037" in row.last_error
    assert drain(now=moment + timedelta(days=1)).handled == 0


def test_subscribe_spends_one_consent_per_send_and_cuts_fields(app, mock_api):
    openid = "oMini" + uuid.uuid4().hex[:20]
    template = app.config["WECHAT_TEMPLATES"]["deputy_reminder"]
    record_consents(openid, [template])
    long_thing = "居民反映小区门口路灯已经坏了两周晚上出行很不方便希望尽快修复"
    first = _queue("subscribe", openid, thing1=long_thing, phrase2="处理中了吗呀呀", time3="2026-12-15 09:00")
    second = _queue("subscribe", openid, thing1="第二条")
    report = drain()
    assert report.sent == 1 and report.undeliverable == 1  # one consent, not following the account
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == "sent" and second.status == "undeliverable"
    assert "订阅授权" in second.last_error
    assert remaining_consents(openid, template) == 0
    spent = db.session.scalar(select(SubscribeConsent).where(SubscribeConsent.openid == openid))
    assert spent.used_for == first.dedup_key
    call = sends(mock_api, SUBSCRIBE_PATH)[0]
    data = call["json"]["data"]
    assert len(data["thing1"]["value"]) == 20 and data["thing1"]["value"].endswith("…")
    assert len(data["phrase2"]["value"]) == 5
    assert data["time3"]["value"] == "2026-12-15 09:00"


def test_subscribe_failure_keeps_the_consent_for_the_retry(app, mock_api):
    openid = "oMini" + uuid.uuid4().hex[:20]
    template = app.config["WECHAT_TEMPLATES"]["deputy_reminder"]
    record_consents(openid, [template])
    db.session.commit()
    row = _queue("subscribe", openid)
    mock_api.add_fault(Fault(SUBSCRIBE_PATH, 1, -1))
    assert drain().retrying == 1
    assert remaining_consents(openid, template) == 1
    assert drain(now=_later()).sent == 1
    db.session.refresh(row)
    assert row.status == "sent"
    assert remaining_consents(openid, template) == 0


def test_subscribe_without_consent_falls_back_to_the_official_account(mock_api):
    openid = "oBoth" + uuid.uuid4().hex[:20]
    db.session.add(Subscriber(openid=openid, subscribed=True))
    row = _queue("subscribe", openid)
    report = drain()
    assert report.sent == 1 and report.fallback == 1
    db.session.refresh(row)
    assert row.status == "sent" and row.msgid
    assert len(sends(mock_api)) == 1 and not mock_api.requests(SUBSCRIBE_PATH)


def test_customer_messages_without_client_support_are_undeliverable(mock_api):
    row = _queue("customer")
    assert drain().undeliverable == 1
    db.session.refresh(row)
    assert row.status == "undeliverable"


def test_drain_respects_its_limit(mock_api):
    rows = [_queue() for _ in range(3)]
    assert drain(limit=2).sent == 2
    assert drain(limit=2).sent == 1
    for row in rows:
        db.session.refresh(row)
    assert all(row.status == "sent" for row in rows)


def test_field_cuts():
    assert (
        messages.cut("一二三四五六七八九十" * 3, "thing")
        == "一二三四五六七八九十" * 1 + "一二三四五六七八九" + "…"
    )
    assert len(messages.cut("一二三四五六七八九十" * 3, "thing")) == 20
    assert messages.cut("短", "thing") == "短"
    assert messages.cut("  多  个\n空格 ", "thing") == "多 个 空格"
    fitted = messages.fit_subscribe_fields(
        {"thing1": "x" * 30, "phrase2": "已受理待办理", "name3": "欧阳" * 6, "time4": "2026-12-15 09:00:00"}
    )
    assert [len(v) for v in fitted.values()] == [20, 5, 10, 19]

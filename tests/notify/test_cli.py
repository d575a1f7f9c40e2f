"""``flask outbox drain`` and ``--wait``."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.notify import messages
from app.notify.models import OutboxMessage
from app.notify.service import queue_message
from app.wechat.mock import Fault
from tests.notify.conftest import sends


def _queue() -> OutboxMessage:
    message = messages.Message(kind="test", template_key="deputy_reminder", data={"thing1": "测试"})
    row = queue_message("o" + uuid.uuid4().hex[:27], "template", message, f"cli:{uuid.uuid4().hex}")
    db.session.commit()
    return row


def test_drain_sends_what_is_due_and_prints_counts(runner, mock_api):
    _queue()
    _queue()
    result = runner.invoke(args=["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert "已发送 2 条" in result.output
    assert len(sends(mock_api)) == 2
    again = runner.invoke(args=["outbox", "drain"])
    assert again.exit_code == 0 and "已发送 0 条" in again.output


def test_drain_without_wait_leaves_a_backed_off_row_pending(runner, mock_api):
    _queue()
    mock_api.add_fault(Fault("/cgi-bin/message/template/send", 1, 45009))
    result = runner.invoke(args=["outbox", "drain"])
    assert result.exit_code == 0, result.output
    assert "稍后重试 1 条" in result.output and "仍有 1 条待发送" in result.output


def test_drain_wait_honours_the_back_off_until_sent(app, runner, mock_api, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_RETRY_BASE_S", 1)
    row = _queue()
    mock_api.add_fault(Fault("/cgi-bin/message/template/send", 1, 45009))
    result = runner.invoke(args=["outbox", "drain", "--wait", "8"])
    assert result.exit_code == 0, result.output
    assert "已发送 1 条" in result.output and "稍后重试 1 条" in result.output
    assert "仍有" not in result.output
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 2
    assert len(sends(mock_api)) == 1

"""Which pushes the endpoint may run outside a transaction of their own (``repeatable``)."""

from __future__ import annotations

import pytest

from app.wechat.protocol import open_message
from handlers.registry import handler_for, route
from tests.wechat.sender import documented


def _inbound(name: str, **fields):
    return open_message(documented(name, FromUserName="oRegistry", **fields).encode(), {}, crypto=None)


@pytest.mark.parametrize(
    ("name", "fields", "repeatable"),
    [
        ("event_scan", {"EventKey": "S001"}, False),  # may re-subscribe: a late retry must roll back
        ("text", {"Content": "值班"}, True),
        ("text", {"Content": "进度 J2026000001"}, True),
        ("text", {"Content": "你好"}, True),
        ("event_click", {"EventKey": "MY_PROGRESS"}, True),
        ("location", {}, True),
        ("text", {"Content": "留言 小区门口路灯坏了两周"}, False),  # creates an opinion
        ("text", {"Content": "留言"}, False),
        ("text", {"Content": "退订"}, False),  # changes preferences
        ("event_subscribe", {}, False),
        ("event_unsubscribe", {}, False),
        ("event_templatesendjobfinish", {}, False),
    ],
)
def test_only_handlers_that_only_read_are_repeatable(name, fields, repeatable):
    assert route(_inbound(name, **fields)).repeatable is repeatable


def test_a_message_beginning_with_liuyan_goes_to_the_opinion_handler():
    assert handler_for(_inbound("text", Content="留言：路灯坏了")).__name__ == "leave_opinion"
    assert handler_for(_inbound("text", Content="我想留言")).__name__ == "text_message"

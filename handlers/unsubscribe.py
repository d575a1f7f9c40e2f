"""``unsubscribe``: mark the follower gone and keep their history (WeChat shows no reply)."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome, unsubscribe
from handlers.registry import on_event


@on_event("unsubscribe")
def follower_left(inbound: Inbound) -> Outcome:
    unsubscribe(inbound.openid)
    return Outcome(None, "unsubscribed")

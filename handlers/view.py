"""Menu ``VIEW`` events: the follower opened a menu link; logged, nothing to answer."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers.registry import on_event, repeatable


@on_event("view")
@repeatable
def menu_link(inbound: Inbound) -> Outcome:
    return Outcome(None, "menu_view", (inbound.message.url or "")[:64])

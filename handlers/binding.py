"""A one-time binding QR scanned (scene ``bind_<token>``): bind this WeChat to a deputy or staff user."""

from __future__ import annotations

from app.errors import DomainError
from app.notify.binding import SCENE_PREFIX, redeem_binding
from app.wechat.protocol import Inbound
from app.wechat.service import Outcome, subscribe
from handlers.registry import on_scene


@on_scene(SCENE_PREFIX)
def bind_by_qr(inbound: Inbound) -> Outcome:
    if inbound.message.event == "subscribe_scan":
        subscribe(inbound.openid)  # they followed the account by scanning it: record that too
    token = str(inbound.message.scene_id)[len(SCENE_PREFIX) :]
    try:
        result = redeem_binding(token, inbound.openid)
    except DomainError as exc:
        return Outcome(str(exc), "bind_refused", token[:8])
    return Outcome(result.message, f"bound_{result.kind}", token[:8])

"""``TEMPLATESENDJOBFINISH``: WeChat reports whether a template message arrived."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome, record_template_delivery
from handlers.registry import on_event


@on_event("templatesendjobfinish")
def template_delivered(inbound: Inbound) -> Outcome:
    message = inbound.message
    if not message.id:
        return Outcome(None, "template_report_invalid")
    delivery = record_template_delivery(int(message.id), inbound.openid, str(message.status or "")[:64])
    return Outcome(None, "template_report", f"{delivery.msgid}:{delivery.status}"[:64])

"""``/api/v1/subscriptions``: the resident's consents to mini-program subscribe messages.

WeChat allows one message per consent (一次性订阅): after ``wx.requestSubscribeMessage``
the mini-program records the templates the resident accepted, and each later push spends one.
Which templates exist is configuration (``WECHAT_TEMPLATES``, the ids the pushes use).
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.residents import resident_required
from app.api.schemas import ConsentArgs, ConsentRecordedSchema, SubscriptionListSchema
from app.errors import ValidationFailed
from app.extensions import db
from app.notify.consents import record_consents, remaining_consents

blp = api_blueprint("api_subscriptions", __name__, "subscriptions", "订阅消息：记录群众的订阅授权")

# The subscribe messages a resident can agree to, by purpose; the ids are the deployment's
# WECHAT_TEMPLATES (the ids the pushes are sent with, so each push spends a consent of its own).
RESIDENT_TEMPLATES = {"opinion_update": "留言办理进度提醒", "reception_announced": "代表接待活动公告"}


def configured_templates() -> list[dict]:
    """The subscribe-message templates a resident may accept: purpose, title, template id."""
    ids = current_app.config.get("WECHAT_TEMPLATES") or {}
    return [
        {"purpose": purpose, "title": title, "template_id": ids[purpose]}
        for purpose, title in RESIDENT_TEMPLATES.items()
        if ids.get(purpose)
    ]


@blp.route("")
class Subscriptions(MethodView):
    @resident_required(blp)
    @blp.response(200, SubscriptionListSchema)
    def get(self, resident: str):
        """Each configured template with how many messages the resident still allows."""
        return {
            "items": [
                {**template, "remaining": remaining_consents(resident, template["template_id"])}
                for template in configured_templates()
            ]
        }

    @resident_required(blp)
    @blp.arguments(ConsentArgs)
    @blp.response(201, ConsentRecordedSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="模板编号无效，或一次超过 3 个")
    def post(self, data: dict, resident: str):
        """Record the templates the resident accepted in wx.requestSubscribeMessage (one message each)."""
        known = {template["template_id"] for template in configured_templates()}
        if any(template_id not in known for template_id in data["template_ids"]):
            raise ValidationFailed("订阅消息模板编号无效。", field="template_ids")
        recorded = record_consents(resident, data["template_ids"])
        db.session.commit()
        return {"recorded": recorded}

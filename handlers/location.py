"""A ``location`` message, or the ``LOCATION`` event: the three nearest stations."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers import answers
from handlers.registry import on, on_event, repeatable


def _coordinate(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -180 <= number <= 180 else None


def _nearest(lat, lng) -> Outcome:
    lat, lng = _coordinate(lat), _coordinate(lng)
    if lat is None or lng is None or abs(lat) > 90:
        return Outcome("没能识别您的位置，请重新发送。", "location_invalid")
    return answers.nearest(lat, lng)


@on("location")
@repeatable
def location_message(inbound: Inbound) -> Outcome:
    return _nearest(inbound.message.location_x, inbound.message.location_y)


@on_event("location")
@repeatable
def location_report(inbound: Inbound) -> Outcome:
    return _nearest(inbound.message.latitude, inbound.message.longitude)


@on_event("location_select")
@repeatable
def location_picked(inbound: Inbound) -> Outcome:
    # The menu's location picker: WeChat follows it with a location message, answered there.
    return Outcome(None, "location_select")

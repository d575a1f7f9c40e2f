"""``subscribe``: a new follower; with ``qrscene_<station code>`` they scanned a plaque."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome, subscribe
from handlers import answers
from handlers.registry import on_event


@on_event("subscribe")
def plain_subscribe(inbound: Inbound) -> Outcome:
    subscribe(inbound.openid)
    return Outcome(answers.WELCOME, "subscribed")


@on_event("subscribe_scan")
def subscribe_by_plaque(inbound: Inbound) -> Outcome:
    # wechatpy strips the "qrscene_" prefix: the scene id is the station code.
    station = answers.station_by_code(inbound.message.scene_id)
    subscribe(inbound.openid, station=station, via="qrscene")
    if station is None:
        return Outcome(answers.WELCOME, "subscribed", "unknown-station")
    return Outcome(answers.station_card(station, "感谢关注！您已关注："), "subscribed_station", station.code)

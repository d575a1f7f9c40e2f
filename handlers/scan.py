"""``SCAN``: a follower scanned a station's plaque again (or another station's)."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome, subscribe
from handlers import answers
from handlers.registry import on_event


@on_event("scan")
# Not @repeatable: it may re-subscribe the follower, and a late retry must roll that back.
def scan_plaque(inbound: Inbound) -> Outcome:
    station = answers.station_by_code(inbound.message.scene_id)
    if station is None:
        return Outcome("未找到该家站点，二维码可能已停用。" + "\n" + answers.HELP, "scan_unknown")
    subscribe(inbound.openid, station=station, via="scan")
    return Outcome(answers.station_card(station, "您已关注："), "followed_station", station.code)

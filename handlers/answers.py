"""The answers the official account gives, shared by text keywords and menu clicks.

Each function calls the domain services and words the reply: concise Chinese, plain
links (WeChat turns them into tappable links), well under WeChat's 2048-byte limit.
"""

from __future__ import annotations

import re

from flask import current_app

from app.errors import DomainError
from app.extensions import db
from app.opinions.service import get_by_tracking_no, normalise_tracking_no, opinions_of, submit_opinion
from app.receptions.service import ReceptionBrief, duty_brief_at
from app.stations.lookup import StationRef, station_ref
from app.stations.models import Station
from app.timeutil import local_now, to_local
from app.wechat.service import Outcome, followed_stations, nearest_stations

WEEKDAYS = "一二三四五六日"
STATION_CODE_RE = re.compile(r"^[2-9a-hjkmnp-z]{6}$")
MAX_NAMES = 4

HELP = (
    "您好！这里是人大代表家站点服务号，您可以：\n"
    "· 发送“留言+内容”向代表反映意见建议\n"
    "· 发送“进度”查看留言办理情况\n"
    "· 发送“值班”查看代表接待安排\n"
    "· 发送位置，查找最近的家站点\n"
    "· 扫描家站点门口的二维码，关注该站点\n"
    "也可以使用下方菜单。"
)
WELCOME = "感谢关注！\n" + HELP
NO_STATION = "您还没有关注家站点。请扫描家站点门口的二维码，或发送您的位置查找附近的家站点。"


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def station_link(station: Station | StationRef) -> str:
    return f"{base_url()}/s/{station.code}"


def tracking_link(tracking_no: str) -> str:
    return f"{base_url()}/t/{tracking_no}"


def reception_line(reception: ReceptionBrief) -> str:
    """ "11月17日（周二）09:00-11:30 代表联系服务群众日，代表：张三、李四"."""
    day = reception.date
    line = (
        f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"
        f"{reception.start:%H:%M}-{reception.end:%H:%M} {reception.kind_label}"
    )
    if reception.topic and reception.topic != reception.kind_label:  # never "服务日（服务日）"
        line += f"（{reception.topic}）"
    names = reception.deputy_names
    if names:
        shown = "、".join(names[:MAX_NAMES])
        line += f"，代表：{shown}" + (f"等{len(names)}位" if len(names) > MAX_NAMES else "")
    return line


def duty_lines(station: Station | StationRef) -> list[str]:
    """Who is on duty now and next; says so plainly when nothing is scheduled."""
    duty = duty_brief_at(station.id, local_now())
    lines = []
    if duty.now is not None:
        lines.append("正在接待：" + reception_line(duty.now))
    if duty.next:
        lines.append("下次接待：" + reception_line(duty.next[0]))
    return lines or ["暂无接待安排"]


def station_card(station: Station | StationRef, greeting: str = "") -> str:
    """The station's card: name, address, who is on duty next, and its page."""
    lines = [greeting] if greeting else []
    lines.append(f"【{station.name}】")
    lines.append(f"地址：{station.address}")
    if station.phone:
        lines.append(f"电话：{station.phone}")
    lines.extend(duty_lines(station))
    lines.append(f"查看代表、预约、留言：{station_link(station)}")
    return "\n".join(lines)


def station_by_code(code: str) -> StationRef | None:
    """An active station by its public code, as typed or scanned (case-insensitive).

    A snapshot from this worker's cache (``app.stations.lookup``), not an ORM object.
    """
    code = (code or "").strip().lower()
    if not STATION_CODE_RE.match(code):
        return None
    station = station_ref(code)
    return station if station is not None and station.is_active else None


def _distance(metres: float) -> str:
    return f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{round(metres / 10) * 10:.0f} 米"


def nearest(lat: float, lng: float) -> Outcome:
    """The three nearest active stations, nearest first, with distance and link."""
    found = nearest_stations(lat, lng, limit=3)
    if not found:
        return Outcome("附近暂未找到家站点。", "nearest", "0")
    lines = ["离您最近的家站点："]
    for i, (station, metres) in enumerate(found, 1):
        lines.append(f"{i}. {station.name}（{_distance(metres)}）")
        lines.append(f"{station.address}\n{station_link(station)}")
    lines.append("扫描站点门口的二维码即可关注该站点。")
    return Outcome("\n".join(lines), "nearest", ",".join(s.code for s, _ in found))


def _station_choices(stations: list[StationRef], example: str) -> str:
    lines = [f"{i}. {s.name}（编号 {s.code}）\n{station_link(s)}" for i, s in enumerate(stations[:5], 1)]
    return "\n".join(lines) + f"\n例如：{example}"


def leave_opinion(openid: str, rest: str, msg_id: str) -> Outcome:
    """``留言 [站点编号] 内容``: store the opinion at the followed (or named) station."""
    first, _, remainder = rest.partition(" ")
    named = station_by_code(first)
    # The opinion is stored against the station's row as it is now (submit_opinion re-checks it).
    named = db.session.get(Station, named.id) if named is not None else None
    if named is not None:
        station, content = named, remainder.strip()
    else:
        stations = followed_stations(openid)
        if not stations:
            return Outcome(NO_STATION + "\n也可以打开站点页面直接留言。", "opinion_no_station")
        if len(stations) > 1:
            reply = "您关注了多个家站点，请在“留言”后写上站点编号，或打开站点页面留言：\n" + _station_choices(
                stations, f"留言 {stations[0].code} 小区路灯坏了"
            )
            return Outcome(reply, "opinion_ask_station", str(len(stations)))
        station, content = stations[0], rest
    if not content:
        return Outcome(
            f"请在“留言”后写上您的意见建议，例如：留言 小区门口路灯坏了。\n站点：{station.name}",
            "opinion_howto",
            station.code,
        )
    try:
        opinion = submit_opinion(
            station=station, content=content, channel="wechat", resident_id=openid, dedup_key=f"wx:{msg_id}"
        )
    except DomainError as exc:
        return Outcome(exc.message, "opinion_refused", station.code)
    reply = (
        f"您的留言已收到，查询编号：{opinion.tracking_no}\n"
        f"站点：{station.name}\n状态：{opinion.status_label}\n"
        f"办理进度：{tracking_link(opinion.tracking_no)}\n发送“进度”可随时查看。"
    )
    return Outcome(reply, "opinion_created", opinion.tracking_no)


def opinion_howto(openid: str) -> Outcome:
    """How to leave an opinion, and where (the followed stations)."""
    stations = followed_stations(openid)
    lines = ["请直接发送“留言+内容”，例如：留言 小区门口路灯坏了，晚上出行不便。"]
    if len(stations) == 1:
        lines.append(f"将提交给：{stations[0].name}\n也可打开站点页面留言：{station_link(stations[0])}")
    elif stations:
        lines.append("您关注了多个家站点，请在“留言”后写上站点编号：")
        lines.append(_station_choices(stations, f"留言 {stations[0].code} 小区路灯坏了"))
    else:
        lines.append(NO_STATION)
    return Outcome("\n".join(lines), "opinion_howto")


def progress(openid: str, number: str = "") -> Outcome:
    """``进度 [编号]``: one opinion's status, or the sender's latest opinions."""
    if normalise_tracking_no(number):
        try:
            opinion = get_by_tracking_no(number)
        except DomainError as exc:
            return Outcome(exc.message, "progress_not_found")
        reply = (
            f"编号 {opinion.tracking_no}：{opinion.status_label}\n"
            f"站点：{opinion.station.name}\n详情：{tracking_link(opinion.tracking_no)}"
        )
        return Outcome(reply, "progress_one", opinion.tracking_no)
    mine = opinions_of(openid, limit=5)
    if not mine:
        return Outcome("您还没有留言记录。发送“留言+内容”即可向代表反映意见建议。", "progress_none")
    lines = ["您最近的留言："]
    for i, opinion in enumerate(mine, 1):
        day = to_local(opinion.created_at)
        excerpt = opinion.content[:12] + ("…" if len(opinion.content) > 12 else "")
        lines.append(f"{i}. {opinion.status_label}｜{day.month}月{day.day}日｜{excerpt}")
        lines.append(tracking_link(opinion.tracking_no))
    return Outcome("\n".join(lines), "progress_list", str(len(mine)))


def on_duty(openid: str, code: str = "") -> Outcome:
    """``值班``/``接待``: who is on duty now and next at the followed (or named) stations."""
    named = station_by_code(code) if code else None
    stations = [named] if named is not None else followed_stations(openid)[:3]
    if not stations:
        return Outcome(NO_STATION, "duty_no_station")
    blocks = []
    for station in stations:
        blocks.append("\n".join([f"【{station.name}】", *duty_lines(station), station_link(station)]))
    return Outcome("\n\n".join(blocks), "duty", ",".join(s.code for s in stations))


def my_stations(openid: str) -> Outcome:
    """The stations a follower follows, with links."""
    stations = followed_stations(openid)
    if not stations:
        return Outcome(NO_STATION, "my_stations", "0")
    lines = ["您关注的家站点："]
    lines += [f"{i}. {s.name}\n{station_link(s)}" for i, s in enumerate(stations[:8], 1)]
    return Outcome("\n".join(lines), "my_stations", str(len(stations)))


def help_text() -> Outcome:
    return Outcome(HELP, "help")

"""The WeChat simulator in the staff console (``/console/wechat/simulator``): demo and training tool."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.models import ADMIN_ROLES, Role
from app.auth.scope import scoped_select
from app.auth.service import require
from app.console.access import nav_context, require_login
from app.errors import ValidationFailed
from app.extensions import db
from app.stations.models import Station, StationStatus
from app.timeutil import to_local
from app.wechat.menu import configured_menu
from app.wechat.models import InboundMessage
from app.wechat.simulator import OPENID_RE, recent_pushes, simulate

bp = Blueprint("wechat_console", __name__)
# The same door and sidebar as the rest of the console.
bp.before_request(require_login)
bp.context_processor(nav_context)

# Staff who run stations or supervise them; deputies and handling units have no use for it.
SIMULATOR_ROLES = frozenset({*ADMIN_ROLES, Role.STATION_STAFF})
WUXI_CENTRE = (31.568915, 120.288549)


def _allowed() -> None:
    require(current_user.role_enum in SIMULATOR_ROLES, "您的角色不能使用公众号模拟器。")


def _stations() -> list[Station]:
    stmt = scoped_select(Station, current_user._get_current_object(), Station.status == StationStatus.ACTIVE)
    return list(db.session.scalars(stmt.order_by(Station.name).limit(300)))


def _openid(raw: object) -> str:
    text = str(raw or "").strip()
    if OPENID_RE.match(text):
        return text
    return ("sim-" + re.sub(r"[^A-Za-z0-9_-]", "", current_user.username))[:64]


def _menu_buttons() -> list[dict]:
    buttons = []
    for top in configured_menu()["button"]:
        for button in [top, *top.get("sub_button", [])]:
            if button.get("type") == "click":
                buttons.append({"name": button["name"], "key": button["key"]})
    return buttons


# What each push was and what the endpoint did with it (the audit row's ``msg_type``/``event``
# and ``action``), in the words the log shows staff; an unknown code is shown as it is.
TYPE_LABELS = {
    "text": "文字",
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "小视频",
    "location": "位置",
    "link": "链接",
    "subscribe": "关注公众号",
    "unsubscribe": "取消关注",
    "scan": "扫码",
    "click": "点击菜单",
    "view": "菜单链接",
    "location_select": "选择位置",
    "templatesendjobfinish": "模板消息回执",
}
ACTION_LABELS = {
    "subscribed": "欢迎关注",
    "subscribed_station": "关注公众号及站点",
    "followed_station": "关注站点",
    "scan_unknown": "二维码未识别",
    "unsubscribed": "已取消关注",
    "help": "回复使用说明",
    "duty": "回复接待安排",
    "duty_no_station": "提示先关注站点",
    "nearest": "回复附近站点",
    "find_howto": "提示发送位置",
    "location_invalid": "位置未识别",
    "location_select": "不回复",
    "my_stations": "回复关注的站点",
    "opinion_created": "留言已登记",
    "opinion_refused": "留言未通过",
    "opinion_ask_station": "请选择站点",
    "opinion_no_station": "提示先关注站点",
    "opinion_howto": "提示留言方法",
    "progress_one": "回复办理进度",
    "progress_list": "回复我的留言",
    "progress_none": "暂无留言",
    "progress_not_found": "未找到该编号",
    "subscription": "订阅设置已更新",
    "subscription_show": "回复订阅设置",
    "subscription_refused": "订阅设置未更新",
    "bind_refused": "绑定未成功",
    "menu_view": "打开菜单链接",
    "template_report": "记录送达结果",
    "template_report_invalid": "回执无效",
    "ignored": "不处理",
    "failed": "处理出错",
}
ACTION_PREFIX_LABELS = {"bound_": "微信已绑定", "media_": "回复暂不支持的消息类型"}


def action_label(action: str) -> str:
    """A push's ``action`` code in words (``bound_deputy`` and ``media_image`` by their prefix)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    by_prefix = (label for prefix, label in ACTION_PREFIX_LABELS.items() if action.startswith(prefix))
    return next(by_prefix, action)


def _type_label(row: InboundMessage) -> str:
    kind = row.event or row.msg_type
    return TYPE_LABELS.get(kind, kind)


def _said(row: InboundMessage) -> str:
    """What the tester did, in words, from the audit row."""
    if row.msg_type == "text":
        return row.summary
    if row.msg_type == "location":
        return f"[位置] {row.summary}"
    return f"{_type_label(row)} {row.summary}".strip()


def _log(openid: str) -> list[dict]:
    return [
        {
            "at": to_local(row.received_at).isoformat(timespec="seconds"),
            "type": row.event or row.msg_type,
            "type_label": _type_label(row),
            "said": _said(row),
            "summary": row.summary,
            "reply": row.reply,
            "action": row.action,
            "action_label": action_label(row.action),
            "ref": row.ref,
        }
        for row in recent_pushes(openid)
    ]


def simulator():
    _allowed()
    openid = _openid(request.args.get("openid"))
    stations = _stations()
    located = next((s for s in stations if s.lat is not None and s.lng is not None), None)
    log = _log(openid)
    return render_template(
        "console/wechat/simulator.html",
        stations=stations,
        menu=_menu_buttons(),
        openid=openid,
        aes_available=bool(current_app.config.get("WECHAT_AES_KEY")),
        default_location=(float(located.lat), float(located.lng)) if located else WUXI_CENTRE,
        log=log,
        history=list(reversed(log)),
    )


def send():
    _allowed()
    as_json = request.is_json
    data = request.get_json(silent=True) if as_json else request.form.to_dict()
    data = data if isinstance(data, dict) else {}
    openid = str(data.get("openid") or "").strip()
    try:
        exchange = simulate(
            openid, str(data.get("kind") or ""), data, stations=_stations(), encrypted=bool(data.get("aes"))
        )
    except ValidationFailed as exc:
        if as_json:
            raise
        flash(exc.message, "error")
        return redirect(url_for("wechat_console.simulator", openid=_openid(openid)))
    if not as_json:  # the page without JavaScript: back to the chat, which shows the exchange
        return redirect(url_for("wechat_console.simulator", openid=openid))
    return jsonify(
        {
            "status": exchange.status,
            "reply": exchange.reply,
            "sent_xml": exchange.sent_xml,
            "raw_reply": exchange.raw_reply,
            "encrypted": exchange.encrypted,
            "log": _log(openid),
        }
    )


def log():
    _allowed()
    return jsonify({"log": _log(_openid(request.args.get("openid")))})


bp.add_url_rule("/simulator", "simulator", simulator, methods=["GET"])
bp.add_url_rule("/simulator/send", "simulator_send", send, methods=["POST"])
bp.add_url_rule("/simulator/log", "simulator_log", log, methods=["GET"])

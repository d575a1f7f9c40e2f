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


def _said(row: InboundMessage) -> str:
    """What the tester did, in words, from the audit row."""
    if row.msg_type == "text":
        return row.summary
    if row.msg_type == "location":
        return f"[位置] {row.summary}"
    labels = {"subscribe": "关注公众号", "unsubscribe": "取消关注", "scan": "扫码", "click": "点击菜单"}
    label = labels.get(row.event, row.event or row.msg_type)
    return f"{label} {row.summary}".strip()


def _log(openid: str) -> list[dict]:
    return [
        {
            "at": to_local(row.received_at).isoformat(timespec="seconds"),
            "type": row.event or row.msg_type,
            "said": _said(row),
            "summary": row.summary,
            "reply": row.reply,
            "action": row.action,
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

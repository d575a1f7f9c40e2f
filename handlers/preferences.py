"""A follower's subscription choices: reply 退订 / 订阅 / 退订周报 / 订阅周报, or the menu's 订阅设置."""

from __future__ import annotations

from flask import current_app

from app.errors import DomainError
from app.notify.preferences import describe, preferences_of, set_preferences
from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers.registry import on_keyword, on_menu_key

MENU_KEY = "MY_SUBSCRIPTION"
CHANGES = {
    "退订": (
        {"announcements": False, "weekly_digest": False},
        "已退订接待公告和每周接待预告。回复“订阅”可重新订阅。",
    ),
    "订阅": ({"announcements": True}, "已订阅接待公告：您关注的家站点公布接待时间时会通知您。"),
    "退订周报": ({"weekly_digest": False}, "已退订每周接待预告。"),
    "订阅周报": ({"weekly_digest": True}, "已订阅每周接待预告：每周一早上发送您关注的家站点本周的接待安排。"),
}


def _page() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/me/subscriptions"


@on_keyword(*CHANGES)
def change_subscription(inbound: Inbound) -> Outcome:
    word = (inbound.message.content or "").strip()
    changes, said = CHANGES[word]
    try:
        prefs = set_preferences(inbound.openid, **changes)
    except DomainError as exc:
        return Outcome(str(exc), "subscription_refused")
    return Outcome(f"{said}\n{describe(prefs)}\n选择关注哪些家站点：{_page()}", "subscription", word)


@on_menu_key(MENU_KEY)
def show_subscription(inbound: Inbound) -> Outcome:
    try:
        prefs = preferences_of(inbound.openid)
    except DomainError as exc:
        return Outcome(str(exc), "subscription_refused")
    hint = "回复“退订”“订阅”“退订周报”“订阅周报”更改，或打开："
    return Outcome(f"{describe(prefs)}\n{hint}{_page()}", "subscription_show")

"""The official account's custom menu, as configuration.

``WECHAT_MENU`` in the app config (a dict in WeChat's ``menu/create`` format) replaces the
default below; ``flask wechat menu-sync`` pushes it. The CLICK keys are answered by
``handlers/click.py``. WeChat allows 3 buttons with up to 5 sub-buttons each.
"""

from __future__ import annotations

from flask import current_app

DEFAULT_MENU = {
    "button": [
        {
            "name": "找站点",
            "sub_button": [
                {"type": "location_select", "name": "附近的家站点", "key": "NEARBY"},
                {"type": "click", "name": "我关注的站点", "key": "MY_STATIONS"},
                {"type": "click", "name": "订阅设置", "key": "MY_SUBSCRIPTION"},
            ],
        },
        {
            "name": "我要留言",
            "sub_button": [
                {"type": "click", "name": "我要留言", "key": "LEAVE_OPINION"},
                {"type": "click", "name": "办理进度", "key": "MY_PROGRESS"},
            ],
        },
        {"type": "click", "name": "接待预告", "key": "DUTY"},
    ]
}


def configured_menu() -> dict:
    """The menu this deployment wants WeChat to show."""
    return current_app.config.get("WECHAT_MENU") or DEFAULT_MENU

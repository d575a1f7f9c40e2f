"""Menu ``CLICK`` events: the same functions as the text keywords."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers import answers
from handlers.registry import on_event, repeatable


@on_event("click")
@repeatable  # every key only reads
def menu_click(inbound: Inbound) -> Outcome:
    key, openid = inbound.message.key or "", inbound.openid
    if key == "LEAVE_OPINION":
        return answers.opinion_howto(openid)
    if key == "MY_PROGRESS":
        return answers.progress(openid)
    if key == "DUTY":
        return answers.on_duty(openid)
    if key == "MY_STATIONS":
        return answers.my_stations(openid)
    if key == "FIND_STATION":
        return Outcome("请点击输入框旁的“+”，选择“位置”发送给我们，即可查找最近的家站点。", "find_howto")
    return answers.help_text()

"""Text messages: 留言 / 进度 / 值班 (接待) keywords, anything else gets the help."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers import answers
from handlers.registry import on

SEPARATORS = " \u3000:：,，、"


def _after(text: str, keyword: str) -> str:
    return text[len(keyword) :].strip().lstrip(SEPARATORS).strip()


@on("text")
def text_message(inbound: Inbound) -> Outcome:
    text = (inbound.message.content or "").strip()
    openid = inbound.openid
    if text.startswith("留言"):
        return answers.leave_opinion(openid, _after(text, "留言"), str(inbound.message.id))
    if text.startswith(("进度", "查询")):
        return answers.progress(openid, _after(text, text[:2]))
    if text.startswith(("值班", "接待")):
        return answers.on_duty(openid, _after(text, text[:2]))
    return answers.help_text()

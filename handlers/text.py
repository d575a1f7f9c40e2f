"""Text messages: 留言 (stores an opinion), 进度 / 值班 (接待) keywords, anything else gets the help."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers import answers
from handlers.registry import on, on_text_prefix, repeatable

SEPARATORS = " \u3000:：,，、"


def _after(text: str, keyword: str) -> str:
    return text[len(keyword) :].strip().lstrip(SEPARATORS).strip()


@on_text_prefix("留言")
def leave_opinion(inbound: Inbound) -> Outcome:
    text = (inbound.message.content or "").strip()
    return answers.leave_opinion(inbound.openid, _after(text, "留言"), str(inbound.message.id))


@on("text")
@repeatable
def text_message(inbound: Inbound) -> Outcome:
    text = (inbound.message.content or "").strip()
    openid = inbound.openid
    if text.startswith(("进度", "查询")):
        return answers.progress(openid, _after(text, text[:2]))
    if text.startswith(("值班", "接待")):
        return answers.on_duty(openid, _after(text, text[:2]))
    return answers.help_text()

"""Images, voice, video and links: not taken as opinions here; point to the page that takes photos."""

from __future__ import annotations

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome
from handlers.registry import on

HINT = "暂不支持通过图片、语音或视频留言。请发送文字“留言+内容”，或打开家站点页面留言（可附照片）。"


@on("image")
@on("voice")
@on("video")
@on("shortvideo")
@on("link")
def media_message(inbound: Inbound) -> Outcome:
    return Outcome(HINT, f"media_{inbound.msg_type}"[:48])

"""Binding a deputy's or a staff user's WeChat to their record, by a one-time code.

Staff generate a code in the console (``/console/bindings``). The person binds by scanning
its temporary QR with WeChat (an official-account ``QR_STR_SCENE`` with scene
``bind_<token>``: the subscribe/SCAN event carries it, ``handlers/binding.py`` redeems it) or
by opening its link ``/bind/<token>`` inside WeChat (snsapi_base OAuth gives the openid; the
page asks to confirm, so a link preview cannot spend it). A code expires after
``BINDING_TTL_MINUTES``, works once (a conditional UPDATE spends it, so two concurrent
scans cannot both bind), and making a new one for the same person cancels the old one.

Deputies get reminders through their openid; station and unit staff get their daily digest
and 督办 notices through theirs (``StaffUser.openid``): the same mechanism for both.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import StaffUser
from app.deputies.models import Deputy
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models_base import utcnow
from app.notify.models import WeChatBinding
from app.notify.service import audit

SCENE_PREFIX = "bind_"
TOKEN_BYTES = 12  # 16 URL-safe characters: unguessable, and the scene stays short
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what token_urlsafe makes
EXPIRED = "绑定码已过期，请联系工作人员重新生成。"
USED = "绑定码已使用过，每个绑定码只能使用一次。"
UNKNOWN = "绑定码无效，请联系工作人员重新生成。"


@dataclass(frozen=True)
class BindResult:
    """What a redeemed code bound: whose record, and a Chinese sentence for the person."""

    name: str
    kind: str  # "deputy" or "staff"
    message: str


def _target_of(binding: WeChatBinding) -> Deputy | StaffUser | None:
    return binding.deputy if binding.deputy_id is not None else binding.staff_user


def _aware(moment):
    from datetime import UTC

    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def bind_url(binding: WeChatBinding) -> str:
    """The H5 link of a code (open it inside WeChat)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/bind/{binding.token}"


def create_binding(target: Deputy | StaffUser, by: StaffUser | None) -> WeChatBinding:
    """A fresh one-time code for ``target`` (open ones cancelled), with a temporary QR if WeChat gives one."""
    from app.wechat import client as wechat
    from app.wechat.client import WeChatApiError

    now = utcnow()
    is_deputy = isinstance(target, Deputy)
    column = WeChatBinding.deputy_id if is_deputy else WeChatBinding.staff_user_id
    db.session.execute(
        update(WeChatBinding)
        .where(column == target.id, WeChatBinding.used_at.is_(None), WeChatBinding.cancelled_at.is_(None))
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    minutes = int(current_app.config.get("BINDING_TTL_MINUTES", 30))
    binding = WeChatBinding(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        deputy_id=target.id if is_deputy else None,
        staff_user_id=None if is_deputy else target.id,
        created_by_id=getattr(by, "id", None),
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(binding)
    db.session.flush()
    try:
        qr = wechat.official_account().create_temporary_qrcode(SCENE_PREFIX + binding.token, minutes * 60)
        binding.qr_ticket = str(qr.get("ticket") or "")[:255] or None
        binding.qr_url = str(qr.get("url") or "")[:255] or None
    except WeChatApiError:
        pass  # the link still works; the console says the QR is missing
    db.session.flush()
    if by is not None:
        kind = "deputy" if is_deputy else "staff_user"
        audit(by, "binding.create", kind, target.id, f"绑定码有效 {minutes} 分钟")
    return binding


def get_binding(token: str) -> WeChatBinding:
    """The code with this token; ``NotFound`` otherwise (also for anything not shaped like a token)."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise NotFound(UNKNOWN)
    binding = db.session.scalar(select(WeChatBinding).where(WeChatBinding.token == token))
    if binding is None:
        raise NotFound(UNKNOWN)
    return binding


def check_usable(binding: WeChatBinding) -> None:
    """Raise ``Conflict`` with the reason when the code can no longer bind."""
    if binding.used_at is not None:
        raise Conflict(USED)
    if binding.cancelled_at is not None or _target_of(binding) is None:
        raise Conflict(UNKNOWN)
    if _aware(binding.expires_at) <= utcnow():
        raise Conflict(EXPIRED)


def redeem_binding(token: str, openid: str) -> BindResult:
    """Bind ``openid`` to the code's deputy or staff user, once; Conflict/NotFound with a reason otherwise."""
    binding = get_binding(token)
    check_usable(binding)
    target = _target_of(binding)
    model = type(target)
    other = db.session.scalar(select(model).where(model.openid == openid, model.id != target.id))
    if other is not None:
        who = "代表" if model is Deputy else "工作人员账号"
        label = other.name if model is Deputy else other.display_name
        raise Conflict(f"这个微信已绑定{who}“{label}”，请先解绑。")
    now = utcnow()
    # Spend the code atomically: of two concurrent scans, one binds.
    spent = db.session.execute(
        update(WeChatBinding)
        .where(
            WeChatBinding.id == binding.id,
            WeChatBinding.used_at.is_(None),
            WeChatBinding.cancelled_at.is_(None),
            WeChatBinding.expires_at > now,
        )
        .values(used_at=now, used_openid=openid)
        .returning(WeChatBinding.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.refresh(binding)
    if spent is None:
        raise Conflict(USED)
    target.openid = openid
    db.session.flush()
    is_deputy = model is Deputy
    name = target.name if is_deputy else target.display_name
    audit(None, "binding.redeem", "deputy" if is_deputy else "staff_user", target.id, f"openid {openid[:6]}…")
    what = "代表接待提醒" if is_deputy else "每日工作提醒和督办通知"
    said = f"绑定成功：{name}。今后{what}将通过本公众号发送给您。"
    return BindResult(name, "deputy" if is_deputy else "staff", said)


def unbind(target: Deputy | StaffUser, by: StaffUser) -> None:
    """Remove the WeChat binding (the person is not reached until bound again), audited; idempotent."""
    if not target.openid:
        return
    target.openid = None
    db.session.flush()
    kind = "deputy" if isinstance(target, Deputy) else "staff_user"
    audit(by, "binding.unbind", kind, target.id, "解除微信绑定")


def open_binding_of(target: Deputy | StaffUser) -> WeChatBinding | None:
    """The code still usable for ``target``, if any (for the console)."""
    column = WeChatBinding.deputy_id if isinstance(target, Deputy) else WeChatBinding.staff_user_id
    return db.session.scalar(
        select(WeChatBinding)
        .where(
            column == target.id,
            WeChatBinding.used_at.is_(None),
            WeChatBinding.cancelled_at.is_(None),
            WeChatBinding.expires_at > utcnow(),
        )
        .order_by(WeChatBinding.id.desc())
        .limit(1)
    )

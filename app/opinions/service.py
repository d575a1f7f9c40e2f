"""Opinions in: one path for every channel, stored before anything is acknowledged."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import IO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.deputies.models import Deputy
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.media.service import delete_file, save_image
from app.opinions.models import (
    Category,
    Channel,
    Opinion,
    OpinionDeputy,
    OpinionEvent,
    OpinionPhoto,
    OpinionStatus,
)
from app.stations.lookup import StationRef
from app.stations.models import Station
from app.timeutil import local_now
from app.validation import MOBILE_RE, clean_text
from app.workdays.service import add_workdays

log = logging.getLogger(__name__)

CONTENT_MIN, CONTENT_MAX = 5, 2000
MAX_PHOTOS = 3
ACCEPT_WORKDAYS = 2  # 受理 within two working days, or the station and town see it as late
PHOTO_MAX_BYTES = 5 * 1024 * 1024
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12  # 31^12 ≈ 7.9e17: not guessable, not enumerable


def new_tracking_no() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_no(text: str) -> str:
    """Residents type the number by hand: ignore case, spaces and dashes."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def clean_content(content: object) -> str:
    text = ("" if content is None else str(content)).strip()
    if "\x00" in text:
        raise ValidationFailed("留言内容包含无效字符。", field="content")
    if len(text) < CONTENT_MIN:
        raise ValidationFailed(f"留言内容至少 {CONTENT_MIN} 个字，请把情况说具体一些。", field="content")
    if len(text) > CONTENT_MAX:
        raise ValidationFailed(f"留言内容不能超过 {CONTENT_MAX} 个字。", field="content")
    return text


# (connect, read) seconds for msg_sec_check. A 留言 on the official account is checked while
# WeChat waits for the answer (5 s, then it retries): the check must come before the text is
# stored (a risky text is never stored), so it stays on that path, with a budget leaving
# time for the rest; past it the opinion is kept as "unchecked".
CONTENT_CHECK_TIMEOUT = (1.0, 1.5)


def screen_content(text: str, channel: Channel, openid: str | None) -> str:
    """WeChat msg_sec_check v2 on a resident's text: "pass", "review" or "unchecked".

    A risky text is refused with a clear reason and never stored. The check needs the
    resident's WeChat openid; without one, or when WeChat cannot be reached, the opinion is
    kept as "unchecked" — an opinion is never lost because a content check failed.
    """
    if channel == Channel.STAFF or not openid:
        return "unchecked"  # staff entries and anonymous H5 visitors have no openid to check with
    from app.wechat.client import WeChatApiError, mini_program, official_account

    api = mini_program() if channel == Channel.MINIAPP else official_account()
    try:
        verdict = api.check_text(text, openid, timeout=CONTENT_CHECK_TIMEOUT)
    except (WeChatApiError, OSError) as exc:
        log.warning("msg_sec_check unavailable, opinion kept unchecked: %s", exc)
        return "unchecked"
    if verdict.suggest == "risky":
        raise ValidationFailed(
            "留言内容未通过微信内容安全检测，请删除不当内容后重新提交。",
            code="content_rejected",
            field="content",
        )
    return "pass" if verdict.passed else "review"


def _store_photos(photos: Sequence[IO[bytes]]) -> list[str]:
    """Re-encode and store up to three photos; nothing is kept if any one is refused."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"最多上传 {MAX_PHOTOS} 张照片。", field="photos")
    stored: list[str] = []
    try:
        for stream in photos:
            stored.append(save_image(stream, "opinions", max_bytes=PHOTO_MAX_BYTES))
    except ValidationFailed:
        for path in stored:
            delete_file(path)
        raise
    return stored


def active_categories() -> list[Category]:
    """The managed category list, in its display order."""
    stmt = select(Category).where(Category.active.is_(True)).order_by(Category.sort, Category.name)
    return list(db.session.scalars(stmt))


def resolve_category(value: object) -> str | None:
    """A managed category's code from its code or name; None when left empty.

    Residents pick by name, staff and the API by code: both land on the same code.
    """
    text = str(value or "").strip()
    if not text:
        return None
    category = db.session.scalar(
        select(Category).where(Category.active.is_(True), (Category.code == text) | (Category.name == text))
    )
    if category is None:
        raise ValidationFailed("请从列表中选择类别。", field="category")
    return category.code


def record_event(
    opinion: Opinion,
    action: str,
    *,
    actor: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
    actor_user_id: int | None = None,
) -> OpinionEvent:
    """Append the event row of a change, in the caller's transaction."""
    event = OpinionEvent(
        opinion=opinion,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_user_id=actor_user_id,
        note=note,
    )
    db.session.add(event)
    return event


def submit_opinion(
    *,
    station: Station | StationRef,
    content: object,
    channel: Channel | str,
    resident_id: str | None = None,
    contact_name: object = "",
    contact_mobile: object = "",
    category: str | None = None,
    deputy: Deputy | None = None,
    reception=None,
    dedup_key: str | None = None,
    actor: str = "resident",
    photos: Sequence[IO[bytes]] = (),
    wechat_openid: str | None = None,
    deputies: Sequence[Deputy] = (),
) -> Opinion:
    """Store a new opinion (待受理) with its first event; a repeated ``dedup_key`` returns the first.

    Every channel (official account, H5, mini-program, staff entry) calls this one function.
    ``deputies`` are all the deputies it came through (a reception or a visit may have several;
    ``deputy`` defaults to the first). ``wechat_openid`` is the resident's WeChat openid for the
    content check: on the official account and the mini-program it is ``resident_id`` itself;
    an H5 page passes it only for a resident it identified through WeChat OAuth. ``station``
    may be a ``StationRef`` read in the same transaction (the official account's followed
    stations): the opinion then refers to it by id, without loading the row.
    """
    channel = Channel(channel)
    if not station.is_active:
        raise ValidationFailed("该家站点暂停服务，暂不能留言。", field="station")
    text = clean_content(content)
    name = clean_text(contact_name, "contact_name", "联系人", max_len=32, required=False)
    mobile = clean_text(contact_mobile, "contact_mobile", "手机号", max_len=32, required=False)
    if mobile and not MOBILE_RE.match(mobile):
        raise ValidationFailed("请填写正确的 11 位手机号码。", field="contact_mobile")
    category = resolve_category(category)
    if dedup_key:
        existing = db.session.scalar(select(Opinion).where(Opinion.dedup_key == dedup_key))
        if existing is not None:
            return existing
    if wechat_openid is None and channel in (Channel.WECHAT, Channel.MINIAPP):
        wechat_openid = resident_id
    content_check = screen_content(text, channel, wechat_openid)
    through = list(dict.fromkeys([*([deputy] if deputy else []), *deputies]))
    deputy = deputy or (through[0] if through else None)
    stored = _store_photos(photos)
    opinion = Opinion(
        tracking_no=new_tracking_no(),
        channel=channel,
        **({"station": station} if isinstance(station, Station) else {"station_id": station.id}),
        deputy=deputy,
        reception=reception,
        resident_id=resident_id,
        contact_name=name,
        contact_mobile=mobile,
        content=text,
        category=category,
        status=OpinionStatus.PENDING,
        dedup_key=dedup_key,
        content_check=content_check,
        push_openid=wechat_openid,
        accept_due=add_workdays(local_now().date(), ACCEPT_WORKDAYS),
        photos=[OpinionPhoto(path=path, position=i) for i, path in enumerate(stored)],
        via_deputies=[OpinionDeputy(deputy=d) for d in through],
    )
    try:
        with db.session.begin_nested():
            db.session.add(opinion)
            record_event(opinion, "submit", actor=actor, to_status=OpinionStatus.PENDING, note=channel.label)
            db.session.flush()
    except IntegrityError:
        for path in stored:
            delete_file(path)
        # A concurrent delivery of the same submission won the race: answer with its opinion.
        if dedup_key is None:
            raise
        existing = db.session.scalar(select(Opinion).where(Opinion.dedup_key == dedup_key))
        if existing is None:
            raise
        return existing
    return opinion


def get_by_tracking_no(tracking_no: str) -> Opinion:
    opinion = db.session.scalar(
        select(Opinion).where(Opinion.tracking_no == normalise_tracking_no(tracking_no))
    )
    if opinion is None:
        raise NotFound("未找到该留言，请核对查询编号。")
    return opinion


def opinions_of(resident_id: str, limit: int = 20) -> list[Opinion]:
    """A resident's own opinions, newest first."""
    return list(
        db.session.scalars(
            select(Opinion)
            .where(Opinion.resident_id == resident_id)
            .order_by(Opinion.created_at.desc(), Opinion.id.desc())
            .limit(limit)
        )
    )
